import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { ssmClient } from '../../aws/clients.ts';
import { traced } from '../../observability/tracer.ts';
import { CryptKeyError } from './errors.ts';

/**
 * Where imageServe gets Magento's `crypt/key` (the env.php value, possibly several newline-separated
 * keys). A secret: read at run time, never put in the environment, the template or a log.
 */
export interface CryptKeySource {
  cryptKey(): Promise<string>;
}

/** The one SSM call the adapter makes: a narrow port a test can fake without casts. */
interface SsmGetParameter {
  send(command: GetParameterCommand): Promise<{ Parameter?: { Value?: string } }>;
}

export interface SsmCryptKeySourceOptions {
  /** SecureString parameter holding the crypt/key value, e.g. `/shop/prod/magento/crypt-key`. */
  readonly parameterName: string;
  /** How long a read value is reused; default 5 minutes (a key rotation is picked up within it). */
  readonly ttlMs?: number;
  readonly client?: SsmGetParameter;
  readonly now?: () => number;
}

/**
 * A {@link CryptKeySource} over an SSM SecureString (decrypted with its KMS key), cached for `ttlMs`.
 * Concurrent callers share one read; a failed read is not cached, so the next call retries it.
 *
 * @example createSsmCryptKeySource({ parameterName: '/shop/prod/magento/crypt-key' }).cryptKey()
 */
export function createSsmCryptKeySource(options: SsmCryptKeySourceOptions): CryptKeySource {
  const { parameterName } = options;
  if (!parameterName.startsWith('/') && !parameterName.startsWith('arn:')) {
    throw new CryptKeyError('the parameter name must be a path (/…) or an ARN', parameterName);
  }
  const ttlMs = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  const client = options.client ?? traced(ssmClient());
  let cached: { value: string; expires: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function read(): Promise<string> {
    let value: string | undefined;
    try {
      const output = await client.send(
        new GetParameterCommand({ Name: parameterName, WithDecryption: true }),
      );
      value = output.Parameter?.Value;
    } catch (error) {
      // The SDK's message names the parameter and the reason, never the value.
      throw new CryptKeyError(`reading the crypt key failed: ${(error as Error).name}`, parameterName, {
        cause: error,
      });
    }
    if (value === undefined || value.trim() === '') {
      throw new CryptKeyError('the crypt key parameter is empty', parameterName);
    }
    cached = { value, expires: now() + ttlMs };
    return value;
  }

  return {
    async cryptKey() {
      if (cached !== undefined && now() < cached.expires) return cached.value;
      inFlight ??= read().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}
