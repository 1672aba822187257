import { describe, expect, it } from 'vitest';
import { depthHasWork, mayContinue, pauseAfterPass } from '../../../lib/scaling/idleWatch.ts';

const limits = { maxRunMs: 58_000, passBudgetMs: 10_000 };

describe('mayContinue', () => {
  it.each([
    ['at the start of a minute', 0, 70_000, 3000, true],
    ['a read that starts exactly at the run limit', 55_000, 15_000, 3000, true],
    ['a read that would start after the run limit', 55_500, 14_500, 3000, false],
    ['a pass that would not fit before the Lambda timeout', 10_000, 19_000, 10_000, false],
    ['a pass that just fits before the Lambda timeout', 10_000, 20_000, 10_000, true],
    ['a run limit of 0 (one pass per invocation)', 0, 70_000, 1, false],
  ])('decides %s', (_case, elapsedMs, remainingMs, pauseMs, expected) => {
    const l = _case.startsWith('a run limit of 0') ? { ...limits, maxRunMs: 0 } : limits;
    expect(mayContinue({ elapsedMs, remainingMs }, pauseMs, l)).toBe(expected);
  });
});

describe('depthHasWork', () => {
  it.each([
    [{ visible: 0, inFlight: 0, delayed: 0 }, false, false],
    [{ visible: 1, inFlight: 0, delayed: 0 }, false, true],
    [{ visible: 0, inFlight: 1, delayed: 0 }, false, true],
    [{ visible: 0, inFlight: 0, delayed: 4 }, false, false],
    [{ visible: 0, inFlight: 0, delayed: 4 }, true, true],
  ])('reads %o (delayed counted: %s) as work: %s', (depth, includeDelayed, expected) => {
    expect(depthHasWork(depth, includeDelayed)).toBe(expected);
  });
});

describe('pauseAfterPass', () => {
  it.each([
    [
      'a wake-up pass waiting for its confirming reading',
      { active: true, changed: false, afterWake: true },
      5000,
    ],
    ['a wake-up pass that scaled', { active: true, changed: true, afterWake: true }, 10_000],
    ['an active pass on the run cadence', { active: true, changed: false, afterWake: false }, 10_000],
  ])('pauses after %s', (_case, pace, expected) => {
    expect(pauseAfterPass(pace, 10_000, 5000)).toBe(expected);
  });

  it('never pauses longer than the interval', () => {
    expect(pauseAfterPass({ active: true, changed: false, afterWake: true }, 4000, 5000)).toBe(4000);
  });
});
