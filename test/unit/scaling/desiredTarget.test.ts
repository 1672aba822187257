import { describe, expect, it } from 'vitest';
import {
  arrivalFloor,
  desiredTarget,
  explainTarget,
  type TargetEstimate,
} from '../../../lib/scaling/desiredTarget.ts';
import { defaultPolicySettings, type QueueReading } from '../../../lib/scaling/policy.ts';
import type { ScalingBounds } from '../../../lib/scaling/target.ts';

const bounds: ScalingBounds = { messagesPerPod: 20, minReplicas: 0, maxReplicas: 10, cooldownSeconds: 300 };
const read = (visible: number, inFlight = 0, extra: Partial<QueueReading> = {}): QueueReading => ({
  visible,
  inFlight,
  delayed: 0,
  ...extra,
});

describe('arrivalFloor', () => {
  it.each<[string, number, number | undefined, number, number]>([
    ['is 0 without a processing time', 10, undefined, 0.8, 0],
    ['is 0 without arrivals', 0, 2, 0.8, 0],
    ["provisions arrivals × seconds / utilization (Little's law)", 10, 0.5, 0.8, 7],
    ['rounds a whole number of busy consumers to itself', 4, 0.5, 1, 2],
    ['rounds a fraction of a consumer up', 0.01, 0.5, 0.8, 1],
    ['is capped at the messages of the measured minute', 1 / 60, 600, 0.8, 1],
    ['is capped at the minute for a slow stream of long messages', 0.05, 600, 1, 3],
  ])('%s', (_name, arrivals, secondsPerMessage, utilization, floor) => {
    expect(arrivalFloor(arrivals, secondsPerMessage, utilization)).toBe(floor);
  });
});

describe('desiredTarget', () => {
  it.each<[string, QueueReading, Partial<ScalingBounds>, boolean, Partial<TargetEstimate>]>([
    ['is 0 for an empty queue', read(0), {}, false, { backlog: 0, raw: 0, target: 0 }],
    [
      'divides the backlog by the messages per pod, rounding up',
      read(41),
      {},
      false,
      { byBacklog: 3, target: 3 },
    ],
    ['counts messages in flight as backlog', read(20, 20), {}, false, { backlog: 40, target: 2 }],
    [
      'keeps one pod for a message in flight',
      read(0, 1),
      {},
      false,
      { byBacklog: 1, byInFlight: 1, target: 1 },
    ],
    [
      'ignores delayed messages by default',
      read(0, 0, { delayed: 100 }),
      {},
      false,
      { backlog: 0, target: 0 },
    ],
    [
      'counts delayed messages when configured',
      read(0, 0, { delayed: 100 }),
      {},
      true,
      { backlog: 100, target: 5 },
    ],
    ['clamps to max', read(10_000), {}, false, { byBacklog: 500, raw: 500, target: 10 }],
    ['clamps to min', read(0), { minReplicas: 2 }, false, { raw: 0, target: 2 }],
    [
      'takes the arrival floor when it is the largest term',
      read(0, 2, { arrivalsPerSecond: 10 }),
      { secondsPerMessage: 0.5 },
      false,
      { byBacklog: 1, byArrivals: 7, raw: 7, target: 7 },
    ],
    [
      'takes the backlog when it beats the floor',
      read(400, 0, { arrivalsPerSecond: 1 }),
      { secondsPerMessage: 0.5 },
      false,
      { byBacklog: 20, byArrivals: 1, target: 10 },
    ],
    [
      'sizes to its share of a shared queue',
      read(100, 0, { share: 0.5 }),
      {},
      false,
      { backlog: 100, share: 0.5, byBacklog: 3, target: 3 },
    ],
    [
      'adds no pod for floating-point noise in a share',
      read(60, 0, { share: 1 / 3 }),
      {},
      false,
      { byBacklog: 1, target: 1 },
    ],
    [
      'takes the share of the arrivals for its floor',
      read(0, 0, { arrivalsPerSecond: 10, share: 0.5 }),
      { secondsPerMessage: 0.5 },
      false,
      { byArrivals: 4, target: 4 },
    ],
    [
      'keeps one pod for a message in flight however small its share',
      read(0, 1, { share: 0.1 }),
      {},
      false,
      { byInFlight: 1, target: 1 },
    ],
    [
      'takes the wait SLO when it is the largest term',
      read(300, 0, { arrivalsPerSecond: 1, oldestAgeSeconds: 240 }),
      { messagesPerPod: 100, secondsPerMessage: 2, maxWaitSeconds: 300 },
      false,
      // 2 s × (300 / 60 s + 1/s) = 12 → max 10; backlog alone 3, floor 3.
      { byBacklog: 3, byArrivals: 3, bySlo: 12, sloHorizonSeconds: 60, raw: 12, target: 10 },
    ],
    [
      'sizes the wait SLO to its share of a shared queue',
      read(600, 0, { share: 0.5 }),
      { messagesPerPod: 1000, secondsPerMessage: 1, maxWaitSeconds: 60 },
      false,
      { byBacklog: 1, bySlo: 5, target: 5 },
    ],
    [
      'has no SLO term without max-wait-seconds',
      read(600, 0, { oldestAgeSeconds: 1000 }),
      { messagesPerPod: 1000, secondsPerMessage: 1 },
      false,
      { bySlo: 0, target: 1 },
    ],
  ])('%s', (_name, reading, overrides, includeDelayed, expected) => {
    // Act
    const estimate = desiredTarget(
      reading,
      { ...bounds, ...overrides },
      { ...defaultPolicySettings, includeDelayed },
    );
    // Assess
    expect(estimate).toMatchObject(expected);
  });
});

describe('explainTarget', () => {
  it.each<[string, QueueReading, Partial<ScalingBounds>, boolean, string]>([
    ['states the backlog term', read(41), {}, false, 'backlog 41 (visible 41, in flight 0) / 20 per pod → 3'],
    [
      'lists delayed messages when they count',
      read(0, 0, { delayed: 100 }),
      {},
      true,
      'backlog 100 (visible 0, in flight 0, delayed 100) / 20 per pod → 5',
    ],
    [
      'names the arrival floor',
      read(0, 2, { arrivalsPerSecond: 10 }),
      { secondsPerMessage: 0.5 },
      false,
      'backlog 2 (visible 0, in flight 2) / 20 per pod → 1; arrivals 10/s × 0.5 s → floor 7',
    ],
    [
      'names the in-flight pod when the backlog term is 0',
      read(0, 1, { arrivalsPerSecond: 0 }),
      { messagesPerPod: 1_000_000 },
      false,
      'backlog 1 (visible 0, in flight 1) / 1000000 per pod → 1',
    ],
    [
      'names the clamp',
      read(10_000),
      {},
      false,
      'backlog 10000 (visible 10000, in flight 0) / 20 per pod → 500; clamped to 10 (min 0, max 10)',
    ],
    [
      'names the share of a shared queue',
      read(100, 0, { share: 0.5 }),
      {},
      false,
      'backlog 100 (visible 100, in flight 0) × share 0.5 / 20 per pod → 3',
    ],
    [
      'names the wait SLO',
      read(300, 0, { oldestAgeSeconds: 240.4 }),
      { messagesPerPod: 100, secondsPerMessage: 2, maxWaitSeconds: 300 },
      false,
      'backlog 300 (visible 300, in flight 0) / 100 per pod → 3; max wait 300 s (oldest 240 s): drain in 60 s → 11; clamped to 10 (min 0, max 10)',
    ],
  ])('%s', (_name, reading, overrides, includeDelayed, text) => {
    const b = { ...bounds, ...overrides };
    const settings = { ...defaultPolicySettings, includeDelayed };
    expect(explainTarget(reading, b, settings, desiredTarget(reading, b, settings))).toBe(text);
  });
});
