import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type CallSettings, callK8s } from '../../../lib/k8s/call.ts';
import type { CallOptions } from '../../../lib/k8s/clusterClient.ts';
import {
  ForbiddenError,
  type K8sOperation,
  K8sTimeoutError,
  ServerError,
  UnauthorizedError,
} from '../../../lib/k8s/errors.ts';

const op: K8sOperation = {
  verb: 'get',
  resource: 'deployments.apps',
  namespace: 'n',
  name: 'd',
  idempotent: true,
};

function settings() {
  const sleeps: number[] = [];
  let clock = 0;
  const calls: CallSettings = {
    timeoutMs: 1000,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 10_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0,
    now: () => clock,
  };
  return { calls, sleeps };
}

const unavailable = () =>
  new ApiException(503, 'x', '{"kind":"Status","reason":"ServiceUnavailable","message":"etcd"}', {});

describe('callK8s', () => {
  it('retries transient failures with backoff and returns the first success', async () => {
    // Prepare
    const { calls, sleeps } = settings();
    let attempts = 0;

    // Act
    const result = await callK8s(calls, op, async () => {
      attempts++;
      if (attempts < 3) throw unavailable();
      return 'ok';
    });

    // Assess
    expect(result).toBe('ok');
    expect(attempts).toBe(3);
    expect(sleeps).toEqual([50, 100]);
  });

  it('gives up after maxAttempts with the typed error of the last attempt', async () => {
    // Prepare
    const { calls, sleeps } = settings();

    // Act
    const call = callK8s(calls, op, async () => {
      throw unavailable();
    });

    // Assess
    await expect(call).rejects.toBeInstanceOf(ServerError);
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry a permanent error', async () => {
    // Prepare
    const { calls, sleeps } = settings();

    // Act
    const call = callK8s(calls, op, async () => {
      throw new ApiException(403, 'x', '{"reason":"Forbidden","message":"no"}', {});
    });

    // Assess
    await expect(call).rejects.toBeInstanceOf(ForbiddenError);
    expect(sleeps).toEqual([]);
  });

  it('retries a 401 once after refreshing the credentials', async () => {
    // Prepare
    const { calls } = settings();
    let refreshes = 0;
    let attempts = 0;

    // Act
    const result = await callK8s({ ...calls, refreshCredentials: () => refreshes++ }, op, async () => {
      attempts++;
      if (attempts === 1) throw new ApiException(401, 'Unauthorized', undefined, {});
      return 'ok';
    });

    // Assess
    expect(result).toBe('ok');
    expect(refreshes).toBe(1);
  });

  it('gives up on a second 401 (UnauthorizedError)', async () => {
    const { calls } = settings();
    const call = callK8s({ ...calls, refreshCredentials: () => undefined }, op, async () => {
      throw new ApiException(401, 'Unauthorized', undefined, {});
    });
    await expect(call).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('passes each attempt an abort signal that fires after the per-attempt timeout', async () => {
    // Prepare: a request that only ends when its signal aborts; one attempt of 20 ms, no retry.
    const { calls } = settings();
    const hung = (options: CallOptions) =>
      new Promise<never>((_, reject) =>
        options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true }),
      );

    // Act
    const call = callK8s({ ...calls, timeoutMs: 20, retry: { ...calls.retry, maxAttempts: 1 } }, op, hung);

    // Assess
    await expect(call).rejects.toBeInstanceOf(K8sTimeoutError);
  });
});
