import { describe, expect, it } from 'vitest';
import type { TargetEstimate } from '../../../lib/scaling/desiredTarget.ts';
import { gateScaleUp, type ScaleUpInput, type ScaleUpVerdict } from '../../../lib/scaling/scaleUpGate.ts';

const estimate = (target: number, terms: Partial<TargetEstimate> = {}): TargetEstimate => ({
  backlog: target * 20,
  share: 1,
  byBacklog: target,
  byArrivals: 0,
  byInFlight: 0,
  bySlo: 0,
  raw: target,
  target,
  ...terms,
});
const settings = { confirmReads: 2, tolerance: 0.1 };
const input = (overrides: Partial<ScaleUpInput>): ScaleUpInput => ({
  current: 0,
  estimate: estimate(1),
  busyReads: 1,
  minReplicas: 0,
  settings,
  ...overrides,
});

describe('gateScaleUp', () => {
  it.each<[string, Partial<ScaleUpInput>, ScaleUpVerdict]>([
    ['waits for confirmation of a small backlog at zero', {}, { kind: 'awaiting-confirmation' }],
    ['starts on the confirming reading', { busyReads: 2 }, { kind: 'up', replicas: 1, surgeLimited: false }],
    [
      'starts at once for more than one pod’s share',
      { estimate: estimate(2) },
      { kind: 'up', replicas: 2, surgeLimited: false },
    ],
    [
      'starts at once for a message in flight',
      { estimate: estimate(1, { byInFlight: 1 }) },
      { kind: 'up', replicas: 1, surgeLimited: false },
    ],
    [
      'starts at once for an arrival floor',
      { estimate: estimate(1, { byArrivals: 1 }) },
      { kind: 'up', replicas: 1, surgeLimited: false },
    ],
    [
      'needs no confirmation above zero',
      { current: 1, estimate: estimate(2), busyReads: 0 },
      { kind: 'up', replicas: 2, surgeLimited: false },
    ],
    [
      'ignores a rise within the tolerance',
      { current: 10, estimate: estimate(11) },
      { kind: 'within-tolerance' },
    ],
    [
      'follows a rise just beyond the tolerance',
      { current: 10, estimate: estimate(12) },
      { kind: 'up', replicas: 12, surgeLimited: false },
    ],
    [
      'follows a rise within the tolerance that min requires',
      { current: 10, estimate: estimate(11), minReplicas: 11 },
      { kind: 'up', replicas: 11, surgeLimited: false },
    ],
    [
      'follows a rise within the tolerance that the arrival floor requires',
      { current: 10, estimate: estimate(11, { byArrivals: 11 }) },
      { kind: 'up', replicas: 11, surgeLimited: false },
    ],
    [
      'adds at most maxSurge',
      { current: 2, estimate: estimate(10), settings: { ...settings, maxSurge: 3 } },
      { kind: 'up', replicas: 5, surgeLimited: true },
    ],
    [
      'reaches a target within maxSurge',
      { current: 2, estimate: estimate(4), settings: { ...settings, maxSurge: 3 } },
      { kind: 'up', replicas: 4, surgeLimited: false },
    ],
  ])('%s', (_name, overrides, verdict) => {
    expect(gateScaleUp(input(overrides))).toEqual(verdict);
  });
});
