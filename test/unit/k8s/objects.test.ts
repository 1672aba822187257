import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { jobOutcome } from '../../../lib/k8s/jobs.ts';
import { type LeaseState, leaseExpired } from '../../../lib/k8s/leases.ts';
import { labelSelectorString } from '../../../lib/k8s/objectRef.ts';

describe('labelSelectorString', () => {
  it.each([
    [{ matchLabels: { app: 'web' } }, 'app=web'],
    [{ matchLabels: { app: 'web', tier: 'fpm' } }, 'app=web,tier=fpm'],
    [
      {
        matchLabels: { app: 'consumer' },
        matchExpressions: [
          { key: 'queue', operator: 'In', values: ['a', 'b'] },
          { key: 'shop', operator: 'NotIn', values: ['x'] },
          { key: 'm2.io/scaled', operator: 'Exists' },
          { key: 'paused', operator: 'DoesNotExist' },
        ],
      },
      'app=consumer,queue in (a,b),shop notin (x),m2.io/scaled,!paused',
    ],
    [{}, ''],
  ])('renders %o as %s', (selector, expected) => {
    expect(labelSelectorString(selector)).toBe(expected);
  });

  it('throws on an unknown operator', () => {
    expect(() => labelSelectorString({ matchExpressions: [{ key: 'a', operator: 'Gt' }] })).toThrow(/Gt/);
  });
});

const job = (conditions: NonNullable<V1Job['status']>['conditions']): V1Job => ({ status: { conditions } });

describe('jobOutcome', () => {
  it.each([
    [[{ type: 'Complete', status: 'True' }], 'succeeded'],
    [[{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }], 'failed'],
    [[{ type: 'SuccessCriteriaMet', status: 'True' }], undefined],
    [[{ type: 'Complete', status: 'False' }], undefined],
    [[], undefined],
  ])('reads %o as %s', (conditions, result) => {
    expect(jobOutcome(job(conditions))?.result).toBe(result);
  });
});

describe('leaseExpired', () => {
  const lease = (renewedAt: string | undefined): LeaseState => ({
    holder: 'a',
    acquiredAt: undefined,
    renewedAt: renewedAt === undefined ? undefined : new Date(renewedAt),
    durationSeconds: 30,
    transitions: 0,
    resourceVersion: '1',
  });

  it.each([
    ['renewed 29 s ago', lease('2026-01-01T00:00:01Z'), false],
    ['renewed exactly 30 s ago', lease('2026-01-01T00:00:00Z'), true],
    ['never renewed', lease(undefined), true],
    ['released (no holder)', { ...lease('2026-01-01T00:00:29Z'), holder: undefined }, true],
  ])('treats a lease %s as expired: %s', (_title, state, expired) => {
    expect(leaseExpired(state, new Date('2026-01-01T00:00:30Z'))).toBe(expired);
  });
});
