import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerClient } from '../aws/clients.ts';
import { traced } from '../observability/tracer.ts';
import { ImageError } from './errors.ts';

/**
 * Where imageServe gets its URL-signing keys: `current` or `current,next` during a rotation. A secret:
 * read at run time, never put in the environment, the template or a log.
 */
export interface SigningKeySource {
  /** One or two keys, never none: a source that cannot give a key throws (signing fails closed). */
  signingKeys(): Promise<readonly string[]>;
}

/**
 * The signing keys could not be had (secret missing, unreadable, empty or malformed). `secret` names
 * the secret that was read; the message never quotes its value.
 */
export class SigningKeyError extends ImageError {
  readonly secret: string;

  constructor(message: string, secret: string, options?: ErrorOptions) {
    super(`${message} (secret ${secret})`, options);
    this.name = 'SigningKeyError';
    this.secret = secret;
  }
}

/** The CloudFront KeyValueStore's `signing-keys` holds the same text, so the edge and imageServe agree. */
const minKeyLength = 32;
const maxKeys = 2;

/**
 * The keys in a secret's text: `current` or `current,next`, each at least 32 characters. Throws a
 * {@link SigningKeyError} describing what is wrong without the value.
 *
 * @example signingKeysOf('k1…,k2…', 'arn:aws:secretsmanager:…') // ['k1…', 'k2…']
 */
export function signingKeysOf(text: string, secret: string): readonly string[] {
  const keys = text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (keys.length === 0) throw new SigningKeyError('the signing key secret is empty', secret);
  if (keys.length > maxKeys) {
    throw new SigningKeyError(
      `the secret holds ${keys.length} keys; at most ${maxKeys} (current,next)`,
      secret,
    );
  }
  if (keys.some((k) => k.length < minKeyLength)) {
    throw new SigningKeyError(`each signing key needs at least ${minKeyLength} characters`, secret);
  }
  return Object.freeze(keys);
}

export interface SecretsManagerSigningKeySourceOptions {
  /** ARN of the secret whose SecretString is `current[,next]`. */
  readonly secretId: string;
  /** How long read keys are reused; default 5 minutes (a rotation is picked up within it). */
  readonly ttlMs?: number;
  readonly client?: SecretsManagerClient;
  readonly now?: () => number;
}

/**
 * A {@link SigningKeySource} over a Secrets Manager secret read with Powertools' SecretsProvider. The TTL
 * is kept here rather than in Powertools' cache so the clock can be passed in (Powertools reads the wall
 * clock). Concurrent callers share one read; a failed read is never cached and never falls back to the
 * expired keys: with signing configured, a request is answered only under keys read within the TTL.
 *
 * @example createSecretsManagerSigningKeySource({ secretId: config.signing.secretId }).signingKeys()
 */
export function createSecretsManagerSigningKeySource(
  options: SecretsManagerSigningKeySourceOptions,
): SigningKeySource {
  const { secretId } = options;
  const ttlMs = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  const provider = new SecretsProvider({ awsSdkV3Client: options.client ?? traced(secretsManagerClient()) });
  let cached: { keys: readonly string[]; expires: number } | undefined;
  let inFlight: Promise<readonly string[]> | undefined;

  async function read(): Promise<readonly string[]> {
    let value: unknown;
    try {
      value = await provider.get(secretId, { forceFetch: true });
    } catch (error) {
      // Powertools wraps the SDK error; its name and the cause's name say why, never the value.
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.name : 'error';
      throw new SigningKeyError(`reading the signing keys failed: ${reason}`, secretId, { cause: error });
    }
    if (typeof value !== 'string') {
      throw new SigningKeyError('the signing key secret has no SecretString', secretId);
    }
    const keys = signingKeysOf(value, secretId);
    cached = { keys, expires: now() + ttlMs };
    return keys;
  }

  return {
    async signingKeys() {
      if (cached !== undefined && now() < cached.expires) return cached.keys;
      inFlight ??= read().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}
