import { setTimeout as sleep } from 'node:timers/promises';
import type { CallOptions } from './clusterClient.ts';
import { toK8sError } from './errorMapping.ts';
import { type K8sOperation, UnauthorizedError } from './errors.ts';
import { defaultRetryPolicy, type RetryPolicy, retryDelay } from './retryPolicy.ts';

/** How calls behave: timeout, retries, and the clock and randomness they use (injectable for tests). */
export interface CallSettings {
  /** Per-attempt timeout; a slow apiserver fails the attempt, not the whole invocation. */
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly now: () => number;
  /**
   * Drops cached credentials (the EKS token) so the next attempt authenticates afresh; set by
   * connectCluster in EKS mode. A 401 is then retried once with a new token.
   */
  readonly refreshCredentials?: () => void;
}

export const defaultCallSettings: CallSettings = Object.freeze({
  timeoutMs: 10_000,
  retry: defaultRetryPolicy,
  sleep: (ms: number) => sleep(ms),
  random: Math.random,
  now: Date.now,
});

/**
 * Runs one API call with a per-attempt timeout, retries transient failures with jittered
 * backoff (honouring Retry-After), and turns every failure into a typed K8sError naming `op`.
 * `send` receives the per-attempt options (the timeout's abort signal) to pass to the port's method.
 *
 * @example
 * const d = await callK8s(cluster.calls, { verb: 'get', resource: 'deployments.apps', namespace, name, idempotent: true },
 *   (options) => cluster.getDeployment({ namespace, name }, options));
 */
export async function callK8s<T>(
  settings: CallSettings,
  op: K8sOperation,
  send: (options: CallOptions) => Promise<T>,
): Promise<T> {
  const started = settings.now();
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send({ signal: AbortSignal.timeout(settings.timeoutMs) });
    } catch (thrown) {
      const error = toK8sError(op, thrown);
      if (error instanceof UnauthorizedError && settings.refreshCredentials !== undefined && !refreshed) {
        refreshed = true;
        settings.refreshCredentials();
        continue;
      }
      const delay = retryDelay(error, op, attempt, settings.now() - started, settings.retry, settings.random);
      if (delay === undefined) throw error;
      await settings.sleep(delay);
    }
  }
}
