import { requestNotSent } from './errorMapping.ts';
import {
  ConnectionError,
  type K8sError,
  type K8sOperation,
  K8sTimeoutError,
  ServerError,
  TooManyRequestsError,
} from './errors.ts';

/** How persistently a call is repeated after transient failures. */
export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** Backoff before the second attempt; doubles with each further attempt. */
  readonly baseDelayMs: number;
  /** Upper bound of one backoff (also caps Retry-After). */
  readonly maxDelayMs: number;
  /** No new attempt starts later than this after the first one. */
  readonly budgetMs: number;
}

/**
 * Enough to ride out an apiserver restart (a few seconds unreachable) without holding a
 * Lambda invocation much longer than a human would wait for kubectl.
 */
export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: 10,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  budgetMs: 30_000,
});

/** Status codes worth repeating: the apiserver or something in front of it was briefly unwell. */
const retryableServerStatus = new Set([500, 502, 503, 504]);

/** Whether an error is transient for this operation, independent of how often it was tried. */
export function isTransient(error: K8sError, op: K8sOperation): boolean {
  if (error instanceof TooManyRequestsError) return true;
  if (error instanceof ServerError)
    return error.status !== undefined && retryableServerStatus.has(error.status);
  // A reset after the request was sent may have applied it: only repeat what is safe to repeat.
  if (error instanceof ConnectionError) return op.idempotent || requestNotSent(error);
  if (error instanceof K8sTimeoutError) return op.idempotent;
  return false;
}

/**
 * The delay before the next attempt, or undefined when the call should fail now.
 * Exponential backoff with "equal jitter" (half fixed, half random), so concurrent callers
 * spread out without ever retrying immediately; Retry-After is honoured when the server sends it.
 *
 * @param attempt attempts already made (1 after the first failure)
 * @param elapsedMs time since the first attempt started
 * @param random a source in [0, 1), injected for tests
 */
export function retryDelay(
  error: K8sError,
  op: K8sOperation,
  attempt: number,
  elapsedMs: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  if (attempt >= policy.maxAttempts || !isTransient(error, op)) return undefined;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = backoff / 2 + (random() * backoff) / 2;
  const delay =
    error.retryAfterSeconds === undefined
      ? jittered
      : Math.min(policy.maxDelayMs, error.retryAfterSeconds * 1000) + random() * policy.baseDelayMs;
  if (elapsedMs + delay > policy.budgetMs) return undefined;
  return Math.round(delay);
}
