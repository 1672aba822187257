import { describe, expect, it } from 'vitest';
import {
  secondsPerMessageFrom,
  type ThroughputEstimate,
  type ThroughputEvidence,
} from '../../../lib/scaling/learnedThroughput.ts';

const minute = 60_000;
/** 5 ready pods, unchanged for 10 minutes, a backlog waiting, alone on the queue, 1 s declared. */
const evidence = (overrides: Partial<ThroughputEvidence>): ThroughputEvidence => ({
  declaredSecondsPerMessage: 1,
  deletedPerSecond: 5,
  readyPods: 5,
  visible: 900,
  share: 1,
  lastScaleAt: 0,
  now: 10 * minute,
  ...overrides,
});
const declared: ThroughputEstimate = { kind: 'declared', secondsPerMessage: 1 };

describe('secondsPerMessageFrom', () => {
  it.each<[string, Partial<ThroughputEvidence>, ThroughputEstimate]>([
    ['keeps the declaration when the deletes agree with it', {}, declared],
    ['keeps it within a factor of 2 (2 s per message observed)', { deletedPerSecond: 2.5 }, declared],
    [
      'learns slower pods than declared (5 pods delete 1/s: 5 s, bounded to 4 s)',
      { deletedPerSecond: 1 },
      { kind: 'learned', secondsPerMessage: 4, observed: 5, declared: 1 },
    ],
    [
      'learns faster pods than declared, within the bound',
      { declaredSecondsPerMessage: 2, deletedPerSecond: 10 },
      { kind: 'learned', secondsPerMessage: 0.5, observed: 0.5, declared: 2 },
    ],
    [
      'learns a 3 s message from 5 pods deleting 5 every 3 s',
      { deletedPerSecond: 5 / 3 },
      { kind: 'learned', secondsPerMessage: 3, observed: 3, declared: 1 },
    ],
    ['keeps it without a datapoint', { deletedPerSecond: undefined }, declared],
    ['keeps it without ready pods', { readyPods: 0 }, declared],
    [
      'keeps it when the pods were starved (less waiting than pods)',
      { deletedPerSecond: 1, visible: 3 },
      declared,
    ],
    [
      'keeps it when the queue is shared: deletes are per queue',
      { deletedPerSecond: 1, share: 0.5 },
      declared,
    ],
    [
      'keeps it while the measured minute may predate the last scale',
      { deletedPerSecond: 1, lastScaleAt: 5 * minute },
      declared,
    ],
    [
      'keeps it for pods never scaled by the scaler',
      { deletedPerSecond: 1, lastScaleAt: undefined },
      declared,
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(secondsPerMessageFrom(evidence(overrides))).toEqual(expected);
  });
});
