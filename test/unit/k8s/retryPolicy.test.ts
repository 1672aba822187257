import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ConnectionError,
  ForbiddenError,
  type K8sError,
  type K8sOperation,
  K8sTimeoutError,
  ServerError,
  TooManyRequestsError,
} from '../../../lib/k8s/errors.ts';
import {
  defaultRetryPolicy,
  isTransient,
  type RetryPolicy,
  retryDelay,
} from '../../../lib/k8s/retryPolicy.ts';

const read: K8sOperation = {
  verb: 'get',
  resource: 'deployments.apps',
  namespace: 'n',
  name: 'd',
  idempotent: true,
};
const create: K8sOperation = {
  verb: 'create',
  resource: 'jobs.batch',
  namespace: 'n',
  name: 'j',
  idempotent: false,
};
const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 10_000 };

const server = (status: number, retryAfterSeconds?: number) =>
  new ServerError(read, 'x', { status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
const connection = (code: string) => new ConnectionError(read, 'x', { reason: code });

describe('isTransient', () => {
  it.each<[string, K8sError, K8sOperation, boolean]>([
    ['429 on a read', new TooManyRequestsError(read, 'x', { status: 429 }), read, true],
    ['429 on a create', new TooManyRequestsError(create, 'x', { status: 429 }), create, true],
    ['500', server(500), read, true],
    ['502', server(502), read, true],
    ['503', server(503), read, true],
    ['504', server(504), read, true],
    ['501 (not implemented)', server(501), read, false],
    ['a reset on a read', connection('ECONNRESET'), read, true],
    ['a reset on a create (may have been applied)', connection('ECONNRESET'), create, false],
    ['a refused connection on a create (never sent)', connection('ECONNREFUSED'), create, true],
    ['a timeout on a read', new K8sTimeoutError(read, 'x'), read, true],
    ['a timeout on a create', new K8sTimeoutError(create, 'x'), create, false],
    ['403', new ForbiddenError(read, 'x', { status: 403 }), read, false],
    ['409', new ConflictError(read, 'x', { status: 409 }), read, false],
  ])('treats %s as transient: %s', (_title, error, op, expected) => {
    expect(isTransient(error, op)).toBe(expected);
  });
});

describe('retryDelay', () => {
  it.each([
    // attempt, random, expected delay: base * 2^(attempt-1), half fixed + half jittered
    [1, 0, 50],
    [1, 0.999_999, 100],
    [2, 0, 100],
    [3, 0.5, 300],
    [4, 0, 400],
    [5, 0, undefined], // maxAttempts reached
  ])('after attempt %i with random %f waits %s ms', (attempt, random, expected) => {
    expect(retryDelay(server(503), read, attempt, 0, policy, () => random)).toBe(expected);
  });

  it('caps the backoff at maxDelayMs', () => {
    const long: RetryPolicy = { ...policy, maxAttempts: 20 };
    expect(retryDelay(server(503), read, 12, 0, long, () => 0.999_999)).toBe(1000);
  });

  it('honours Retry-After (capped) instead of the exponential backoff', () => {
    // Prepare
    const throttled = new TooManyRequestsError(read, 'x', { status: 429, retryAfterSeconds: 0.7 });
    const tooLong = new TooManyRequestsError(read, 'x', { status: 429, retryAfterSeconds: 60 });

    // Act + Assess
    expect(retryDelay(throttled, read, 1, 0, policy, () => 0)).toBe(700);
    expect(retryDelay(tooLong, read, 1, 0, policy, () => 0)).toBe(1000);
  });

  it('gives up when the next attempt would start after the budget', () => {
    expect(retryDelay(server(503), read, 1, 9_990, policy, () => 0)).toBeUndefined();
  });

  it('never retries a permanent error', () => {
    expect(
      retryDelay(new ForbiddenError(read, 'x', { status: 403 }), read, 1, 0, policy, () => 0),
    ).toBeUndefined();
  });

  it('spreads concurrent retries (different random draws give different delays)', () => {
    const delays = new Set(
      [0.1, 0.4, 0.8].map((r) => retryDelay(server(503), read, 3, 0, defaultRetryPolicy, () => r)),
    );
    expect(delays.size).toBe(3);
  });
});
