import { describe, expect, it } from 'vitest';
import {
  decodeContinuationToken,
  encodeContinuationToken,
  maxContinuationTokenLength,
  type RolloutState,
} from '../../../lib/rollout/continuationToken.ts';
import { RolloutError } from '../../../lib/rollout/errors.ts';

const state: RolloutState = {
  v: 1,
  release: '4a5b6c7d-0000-4000-8000-123456789abc',
  phase: 'consumers',
  phaseStartedAt: 1_790_000_000_000,
  startedAt: 1_789_999_000_000,
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/magento:2.4.8',
  previousImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/magento:2.4.7-p3',
  migrate: true,
  targets: [{ kind: 'Deployment', name: 'm2-http' }],
  patched: [{ kind: 'Deployment', name: 'm2-http' }],
};

describe('continuation token', () => {
  it('round-trips the state', () => {
    expect(decodeContinuationToken(encodeContinuationToken(state))).toEqual(state);
  });

  it('reads a token written before the release start was carried (no RolloutDuration for it)', () => {
    const { startedAt: _, ...older } = state;

    const decoded = decodeContinuationToken(encodeContinuationToken(older));

    expect(decoded.startedAt).toBeUndefined();
    expect(decoded).toEqual(older);
  });

  it('fits 2048 characters for a shop with many consumers and a long failure', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({
      kind: 'Deployment' as const,
      name: `m2-consumer-${i}-x`.padEnd(30, 'x'),
    }));
    const token = encodeContinuationToken({
      ...state,
      targets: many,
      patched: many.slice(0, 3),
      failure: 'f'.repeat(300),
    });
    expect(token.length).toBeLessThanOrEqual(maxContinuationTokenLength);
  });

  it('refuses a state that would not fit', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      kind: 'Deployment' as const,
      name: `m2-consumer-${i}`.padEnd(60, 'x'),
    }));
    expect(() => encodeContinuationToken({ ...state, targets: many, patched: many })).toThrow(RolloutError);
  });

  it.each(['', 'not-base64-json', Buffer.from('{"v":2}').toString('base64url')])(
    'rejects the foreign token %j',
    (token) => {
      expect(() => decodeContinuationToken(token)).toThrow(RolloutError);
    },
  );
});
