import { describe, expect, it } from 'vitest';
import { oldestAgeNow, type WaitSloInput, waitSloReplicas } from '../../../lib/scaling/waitSlo.ts';

const slo = (input: Partial<WaitSloInput>): WaitSloInput => ({
  backlog: 0,
  arrivalsPerSecond: 0,
  secondsPerMessage: 1,
  maxWaitSeconds: 300,
  oldestAgeSeconds: 0,
  ...input,
});

describe('waitSloReplicas', () => {
  // Expectations worked by hand: n = ceil(spm × (backlog / horizon + arrivals/s)).
  it.each<[string, Partial<WaitSloInput>, number, number]>([
    ['asks for nothing on an empty, quiet queue', {}, 300, 0],
    ['drains a fresh backlog within the whole SLO', { backlog: 600 }, 300, 2],
    ['keeps pace with arrivals on an empty queue', { arrivalsPerSecond: 3, secondsPerMessage: 2 }, 300, 6],
    [
      'drains backlog and arrivals in what the oldest message has left',
      { backlog: 900, arrivalsPerSecond: 2, secondsPerMessage: 1.5, oldestAgeSeconds: 120 },
      180,
      11,
    ],
    [
      'catches up within a tenth of the SLO once it is breached',
      { backlog: 600, oldestAgeSeconds: 400 },
      30,
      20,
    ],
    [
      'never plans to finish sooner than one message takes',
      { backlog: 10, secondsPerMessage: 50, maxWaitSeconds: 100, oldestAgeSeconds: 99 },
      50,
      10,
    ],
    ['rounds a whole number of pods to itself', { backlog: 300, secondsPerMessage: 3 }, 300, 3],
  ])('%s', (_name, input, horizon, replicas) => {
    expect(waitSloReplicas(slo(input))).toEqual({ horizonSeconds: horizon, replicas });
  });

  it('asks for more pods as the oldest message ages, never fewer', () => {
    const pods = [0, 100, 200, 250, 290, 400].map(
      (age) => waitSloReplicas(slo({ backlog: 1000, oldestAgeSeconds: age })).replicas,
    );
    expect(pods).toEqual([4, 5, 10, 20, 34, 34]);
  });
});

describe('oldestAgeNow', () => {
  it.each<[string, Parameters<typeof oldestAgeNow>, number]>([
    ['is 0 without a datapoint', [undefined, 60_000, 5], 0],
    ['is 0 once nothing is visible: the oldest message was taken', [{ seconds: 90, at: 0 }, 60_000, 0], 0],
    ['adds the time since the datapoint minute ended', [{ seconds: 90, at: 0 }, 60_000, 5], 150],
    [
      'adds nothing for a datapoint stamped in the future (clock skew)',
      [{ seconds: 90, at: 10_000 }, 0, 5],
      90,
    ],
  ])('%s', (_name, args, age) => {
    expect(oldestAgeNow(...args)).toBe(age);
  });
});
