import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { createEksToken, type EksToken, regionalStsEndpoint, tokenLifetimeMs } from './eksToken.ts';

export interface EksTokenProviderOptions {
  readonly clusterName: string;
  readonly region: string;
  /** Defaults to the regional STS endpoint; the embedded environment passes moto's. */
  readonly stsEndpoint?: string;
  readonly credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  readonly now?: () => Date;
  /**
   * How long one token is reused. EKS accepts a token for 15 minutes; refreshing after 10
   * leaves room for clock skew and for long calls that started with an old token.
   */
  readonly reuseForMs?: number;
}

/**
 * Hands out EKS bearer tokens, minting a new one only when the cached one is older than
 * `reuseForMs`. Keep one instance per cluster at module level so warm Lambda invocations reuse it.
 */
export class EksTokenProvider {
  readonly #options: EksTokenProviderOptions;
  readonly #now: () => Date;
  readonly #reuseForMs: number;
  #current: EksToken | undefined;
  #pending: Promise<EksToken> | undefined;

  constructor(options: EksTokenProviderOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#reuseForMs = options.reuseForMs ?? 10 * 60_000;
    if (this.#reuseForMs <= 0 || this.#reuseForMs >= tokenLifetimeMs) {
      throw new RangeError(`reuseForMs must be between 0 and ${tokenLifetimeMs} ms`);
    }
  }

  /** A token valid for at least `15 min - reuseForMs` from now. Concurrent callers share one mint. */
  async getToken(): Promise<string> {
    const now = this.#now();
    const current = this.#current;
    if (current !== undefined && now.getTime() - current.issuedAt.getTime() < this.#reuseForMs)
      return current.token;
    this.#pending ??= this.#mint(now).finally(() => {
      this.#pending = undefined;
    });
    return (await this.#pending).token;
  }

  /** Drops the cached token, e.g. after a 401, so the next call mints a fresh one. */
  invalidate(): void {
    this.#current = undefined;
  }

  async #mint(now: Date): Promise<EksToken> {
    const { credentials } = this.#options;
    const identity = typeof credentials === 'function' ? await credentials() : credentials;
    const token = await createEksToken({
      clusterName: this.#options.clusterName,
      region: this.#options.region,
      stsEndpoint: this.#options.stsEndpoint ?? regionalStsEndpoint(this.#options.region),
      credentials: identity,
      now,
    });
    this.#current = token;
    return token;
  }
}
