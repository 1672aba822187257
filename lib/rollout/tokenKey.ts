import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { secretsManagerClient } from '../aws/clients.ts';
import { parseEnv } from '../config/env.ts';
import { traced } from '../observability/tracer.ts';
import { RolloutError } from './errors.ts';

/**
 * Where the rollout gets the HMAC key that signs its continuation tokens. A secret: read at run
 * time, never put in the environment, the template or a log. The same shape as imageServe's
 * CryptKeySource (lib/images/magento/cryptKeySource.ts): one method, a cached read behind it.
 */
export interface TokenKeySource {
  /** The key; `fresh` bypasses the cache (a token that fails verification may be signed by a rotated key). */
  tokenKey(options?: { readonly fresh?: boolean }): Promise<Buffer>;
}

/** The key could not be read, or is too short to sign with. */
class TokenKeyError extends RolloutError {
  readonly secret: string;

  constructor(message: string, secret: string, options?: ErrorOptions) {
    super(`${message} (secret ${secret})`, options);
    this.name = 'TokenKeyError';
    this.secret = secret;
  }
}

/** HMAC-SHA256 keys shorter than this are refused (RFC 2104 §3: at least the output length). */
const minKeyBytes = 32;

export interface SecretsManagerTokenKeyOptions {
  /** ARN (or name) of the secret whose SecretString is the key. */
  readonly secretId: string;
  /** How long a read key is reused, in seconds; default 300 (a rotation is picked up within it). */
  readonly maxAgeSeconds?: number;
  readonly client?: SecretsManagerClient;
}

/**
 * A {@link TokenKeySource} over a Secrets Manager secret, read with Powertools' SecretsProvider
 * (cached for `maxAgeSeconds`). The key is the SecretString's UTF-8 bytes, at least 32 of them
 * (`aws secretsmanager get-random-password --password-length 64` makes one).
 *
 * @example createSecretsManagerTokenKey({ secretId: process.env.ROLLOUT_TOKEN_SECRET_ARN }).tokenKey()
 */
export function createSecretsManagerTokenKey(options: SecretsManagerTokenKeyOptions): TokenKeySource {
  const client = options.client ?? traced(secretsManagerClient());
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  const maxAge = options.maxAgeSeconds ?? 300;
  return {
    async tokenKey(read = {}) {
      let value: unknown;
      try {
        value = await provider.get(options.secretId, { maxAge, forceFetch: read.fresh === true });
      } catch (error) {
        // The SDK's message names the secret and the reason, never the value.
        throw new TokenKeyError(`reading the token key failed: ${messageName(error)}`, options.secretId, {
          cause: error,
        });
      }
      if (typeof value !== 'string') {
        throw new TokenKeyError('the token key secret has no SecretString', options.secretId);
      }
      const key = Buffer.from(value, 'utf8');
      if (key.length < minKeyBytes) {
        throw new TokenKeyError(`the token key is shorter than ${minKeyBytes} bytes`, options.secretId);
      }
      return key;
    },
  };
}

const messageName = (error: unknown): string => (error instanceof Error ? error.name : 'unknown error');

const envSchema = z.object({
  ROLLOUT_TOKEN_SECRET_ARN: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
      'must be a Secrets Manager secret ARN',
    ),
});

/** The rollout's token-key settings from its environment; fails the cold start naming the variable. */
export const tokenKeySettingsFromEnv = (
  env: Record<string, string | undefined> = process.env,
): { readonly secretId: string } => ({ secretId: parseEnv(envSchema, env).ROLLOUT_TOKEN_SECRET_ARN });
