import { describe, expect, it } from 'vitest';
import {
  mustHandOver,
  type RolloutPhase,
  rollbackOrder,
  rolloutStep,
  type StepOutcome,
} from '../../../lib/rollout/machine.ts';

describe('rolloutStep', () => {
  it.each<[RolloutPhase, StepOutcome, RolloutPhase]>([
    ['preflight', 'done', 'migrate'],
    ['migrate', 'done', 'preview'],
    ['preview', 'done', 'web'],
    ['web', 'done', 'consumers'],
    ['consumers', 'done', 'cron'],
    ['cron', 'done', 'success'],
    ['preflight', 'failed', 'failure'],
    ['migrate', 'failed', 'failure'],
    // The new image ran only in the preview's own pod: nothing to roll back.
    ['preview', 'failed', 'failure'],
    ['web', 'failed', 'rollback'],
    ['consumers', 'failed', 'rollback'],
    ['cron', 'failed', 'rollback'],
    ['rollback', 'done', 'failure'],
    ['rollback', 'failed', 'failure'],
  ])('goes from %s (%s) to %s', (phase, outcome, next) => {
    expect(rolloutStep(phase, outcome)).toBe(next);
  });

  it.each<[RolloutPhase, StepOutcome]>([
    ['success', 'done'],
    ['failure', 'failed'],
  ])('throws after the rollout ended (%s)', (phase, outcome) => {
    expect(() => rolloutStep(phase, outcome)).toThrow(/already ended/);
  });
});

describe('rollbackOrder', () => {
  it('rolls back in the reverse order of patching without changing the input', () => {
    const patched = ['web', 'consumer-a', 'consumer-b', 'cron'];
    expect(rollbackOrder(patched)).toEqual(['cron', 'consumer-b', 'consumer-a', 'web']);
    expect(patched[0]).toBe('web');
  });
});

describe('mustHandOver', () => {
  it.each([
    [120_000, 60_000, 0, false],
    [60_000, 60_000, 0, true],
    [30_000, 60_000, 0, true],
    [600_000, 60_000, 14 * 60_000, true],
    [600_000, 60_000, 14 * 60_000 - 1, false],
  ])(
    'remaining %i ms, margin %i ms, %i ms since the last reply → %s',
    (remainingMs, marginMs, sinceReplyMs, expected) => {
      expect(mustHandOver({ remainingMs, marginMs, sinceReplyMs, replyEveryMs: 14 * 60_000 })).toBe(expected);
    },
  );
});
