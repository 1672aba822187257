import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConsumerScalerConfig } from '../../../lib/config/consumerScalerConfig.ts';
import { parseScalerTrigger } from '../../../lib/scaling/trigger.ts';
import {
  consumeQuota,
  formatSample,
  formatTimeline,
  formatWake,
  nextScheduleS,
  type ScalerCall,
  scalerLogEntry,
  scheduledEvent,
  seconds,
  summarizeBurst,
  timedChanges,
  wakeOf,
} from '../../../scripts/demo/burst/model.ts';
import { type BurstSample, burstScalerEnv } from '../../../scripts/demo/burst.ts';
import { functionSettings } from '../../../scripts/demo/functionEnv.ts';

const sampleEvent = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'events', name), 'utf8'));

/** Deep structure without values: keys and value types. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  }
  return typeof value;
}

describe('consumeQuota', () => {
  it.each([
    ['10 pods at 7/s over 250 ms', { readyPods: 10, elapsedMs: 250, ratePerReadyPod: 7, carry: 0 }, 17, 0.5],
    [
      'the carried half completes a message',
      { readyPods: 10, elapsedMs: 250, ratePerReadyPod: 7, carry: 0.5 },
      18,
      0,
    ],
    ['one pod at 1/s over 250 ms', { readyPods: 1, elapsedMs: 250, ratePerReadyPod: 1, carry: 0 }, 0, 0.25],
    ['no Ready pod drops the carry', { readyPods: 0, elapsedMs: 250, ratePerReadyPod: 7, carry: 0.9 }, 0, 0],
    [
      'a stalled tick counts 2 s at most',
      { readyPods: 10, elapsedMs: 30_000, ratePerReadyPod: 7, carry: 0 },
      140,
      0,
    ],
    [
      'a custom stall cap',
      { readyPods: 2, elapsedMs: 5000, ratePerReadyPod: 5, carry: 0, maxElapsedMs: 500 },
      5,
      0,
    ],
    [
      'a clock going backwards takes nothing',
      { readyPods: 3, elapsedMs: -100, ratePerReadyPod: 7, carry: 0.2 },
      0,
      0.2,
    ],
  ])('takes the right amount for %s', (_name, input, take, carry) => {
    // Act
    const quota = consumeQuota(input);

    // Assess
    expect(quota.take).toBe(take);
    expect(quota.carry).toBeCloseTo(carry, 9);
  });

  it('takes exactly one message in four ticks of 0.25 s at 1 msg/s', () => {
    // Prepare
    let carry = 0;
    const takes: number[] = [];

    // Act
    for (let i = 0; i < 4; i++) {
      const quota = consumeQuota({ readyPods: 1, elapsedMs: 250, ratePerReadyPod: 1, carry });
      takes.push(quota.take);
      carry = quota.carry;
    }

    // Assess
    expect(takes).toEqual([0, 0, 0, 1]);
  });

  it('loses no message over any sequence of ticks (total = pods × rate × time, to one message)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            elapsedMs: fc.integer({ min: 0, max: 2000 }),
            readyPods: fc.integer({ min: 1, max: 10 }),
          }),
          {
            maxLength: 200,
          },
        ),
        fc.integer({ min: 1, max: 20 }),
        (ticks, rate) => {
          let carry = 0;
          let taken = 0;
          let expected = 0;
          for (const tick of ticks) {
            const quota = consumeQuota({ ...tick, ratePerReadyPod: rate, carry });
            taken += quota.take;
            carry = quota.carry;
            expected += (tick.readyPods * rate * tick.elapsedMs) / 1000;
            expect(carry).toBeGreaterThanOrEqual(0);
            expect(carry).toBeLessThan(1);
          }
          expect(Math.abs(taken + carry - expected)).toBeLessThan(1e-6);
        },
      ),
    );
  });
});

describe('nextScheduleS', () => {
  /** Where a loop that wakes at each of `wakes` delivers, from a schedule started at `firstS`. */
  function deliveries(firstS: number, intervalS: number, wakes: readonly number[]): number[] {
    const delivered: number[] = [];
    let next = firstS;
    for (const atS of wakes) {
      if (atS < next) continue;
      delivered.push(atS);
      next = nextScheduleS(firstS, intervalS, atS);
    }
    return delivered;
  }

  it('starts at its first slot, before the burst', () => {
    expect(nextScheduleS(-20, 60, -25)).toBe(-20);
  });

  it('delivers once per slot, a late wake included', () => {
    expect(deliveries(-20, 60, [-20, -19, 39.9, 40.2, 41, 100, 160.5])).toEqual([-20, 40.2, 100, 160.5]);
  });

  it('delivers a missed slot once after a stall and resumes at the next one', () => {
    expect(deliveries(0, 60, [0, 200, 239, 240])).toEqual([0, 200, 240]);
  });

  it('throws for an interval that would never advance', () => {
    expect(() => nextScheduleS(0, 0, 1)).toThrow(RangeError);
  });
});

describe('scheduledEvent', () => {
  const event = scheduledEvent(new Date('2026-11-28T09:01:00.500Z'), { id: 'fixed' });

  it('has the shape of events/schedule.json', () => {
    expect(shapeOf(event)).toEqual(shapeOf(sampleEvent('schedule.json')));
  });

  it('is recognised by consumerScaler as its schedule', () => {
    expect(parseScalerTrigger(event)).toEqual({
      kind: 'schedule',
      rule: 'm2-eks-pipeline-dev-consumer-scaler-backstop',
    });
  });

  it('carries the delivery time in whole seconds', () => {
    expect(event.time).toBe('2026-11-28T09:01:00Z');
  });
});

const sample = (
  atS: number,
  visible: number,
  inFlight: number,
  specReplicas: number,
  readyReplicas: number,
  consumed = 0,
): BurstSample => ({ atS, visible, inFlight, specReplicas, readyReplicas, consumed });

describe('summarizeBurst', () => {
  it('reads first scale-up, peak, drain and zero from a full run', () => {
    // Prepare
    const samples = [
      sample(1, 2000, 0, 0, 0),
      sample(2, 4000, 0, 10, 0),
      sample(3, 6000, 20, 10, 10),
      sample(4, 5900, 70, 10, 10),
      // Empty for a moment while the send still runs: not drained yet.
      sample(4.5, 0, 0, 10, 10),
      sample(150, 0, 0, 10, 10, 10_000),
      sample(160, 0, 0, 1, 1, 10_000),
      sample(190, 0, 0, 0, 1, 10_000),
      sample(191, 0, 0, 0, 0, 10_000),
    ];

    // Act
    const timeline = summarizeBurst(samples, 5);

    // Assess
    expect(timeline).toEqual({ firstScaleUpS: 2, peakReplicas: 10, drainedAtS: 150, zeroAtS: 191 });
  });

  it('counts a scale-up from a non-zero start against the first sample', () => {
    const timeline = summarizeBurst(
      [sample(1, 10, 0, 1, 1), sample(2, 10, 0, 1, 1), sample(3, 10, 0, 4, 1)],
      1,
    );
    expect(timeline.firstScaleUpS).toBe(3);
  });

  it('leaves out what a timed-out run never reached', () => {
    const timeline = summarizeBurst([sample(1, 500, 0, 0, 0), sample(360, 10, 5, 10, 10)], 5);
    expect(timeline).toEqual({ firstScaleUpS: 360, peakReplicas: 10 });
  });

  it('has no zero before the drain, and no zero while a pod is still Ready', () => {
    // Prepare: zero replicas early (before the scaler woke), then drained with one pod still Ready.
    const samples = [sample(1, 9000, 0, 0, 0), sample(6, 0, 0, 3, 3), sample(7, 0, 0, 0, 1)];

    // Act
    const timeline = summarizeBurst(samples, 5);

    // Assess
    expect(timeline.drainedAtS).toBe(6);
    expect(timeline.zeroAtS).toBeUndefined();
  });

  it('has nothing for no samples', () => {
    expect(summarizeBurst([], 0)).toEqual({ peakReplicas: 0 });
  });
});

describe('progress lines', () => {
  it('shows a sample compactly', () => {
    expect(formatSample(sample(42.3, 6512, 120, 10, 10, 3368))).toBe(
      't=42s  queue 6,512 (+120 in flight)  replicas 10/10 ready  consumed 3,368',
    );
  });

  it('shows tenths below 10 s and ready before desired', () => {
    expect(formatSample(sample(2.4, 0, 0, 10, 3))).toBe(
      't=2.4s  queue 0 (+0 in flight)  replicas 3/10 ready  consumed 0',
    );
  });

  it.each([
    [2.44, '2.4'],
    [151.2, '151'],
    [-20, '-20'],
    [-7.25, '-7.3'],
  ])('writes %d s as %s', (value, text) => {
    expect(seconds(value)).toBe(text);
  });

  it('sums the timeline up, saying what was not reached', () => {
    expect(formatTimeline({ firstScaleUpS: 1.6, peakReplicas: 10, drainedAtS: 151.2, totalS: 360 })).toBe(
      'first scale-up at 1.6 s; peak 10 replicas; queue drained at 151 s; back to zero not reached; total 360 s',
    );
  });
});

describe('burstScalerEnv', () => {
  const deployed = functionSettings('consumerScaler', {}).env;

  it('shortens only the scale-down window of the configuration serverless.yml deploys', () => {
    // Act
    const config = loadConsumerScalerConfig({ ...deployed, ...burstScalerEnv });
    const asDeployed = loadConsumerScalerConfig(deployed);

    // Assess
    expect(config.run.policy.scaleDownWindowSeconds).toBe(30);
    expect(asDeployed.run.policy.scaleDownWindowSeconds).toBe(180);
    expect({ ...config.run, policy: { ...config.run.policy, scaleDownWindowSeconds: 0 } }).toEqual({
      ...asDeployed.run,
      policy: { ...asDeployed.run.policy, scaleDownWindowSeconds: 0 },
    });
  });

  it('runs the idle watch as deployed: reads every 3 s until 58 s into the invocation', () => {
    // Act
    const config = loadConsumerScalerConfig({ ...deployed, ...burstScalerEnv });

    // Assess
    expect({ idlePollMs: config.run.idlePollMs, maxRunMs: config.run.maxRunMs }).toEqual({
      idlePollMs: 3000,
      maxRunMs: 58_000,
    });
  });
});

const queueUrl = 'http://localhost:4566/123456789012/m2-product-updates';
const wall0 = Date.parse('2026-12-02T19:00:00.000Z');
const target = { namespace: 'example-shop', deployment: 'm2-consumer-product-updates' };
/** A Powertools line as consumerScaler prints it (LambdaHost.listen parses it). */
const logLine = (message: string, atIso: string, fields: Record<string, unknown> = {}) => ({
  level: 'INFO',
  message,
  timestamp: atIso,
  service: 'm2-eks-pipeline',
  function_name: 'consumerScaler',
  function_request_id: 'req-1',
  ...fields,
});

describe('scalerLogEntry', () => {
  it('reads an idle-watch wake-up at its own time, with the queue named', () => {
    expect(
      scalerLogEntry(
        logLine('idle watch saw work', '2026-12-02T19:00:02.440Z', { queue: queueUrl, rounds: 8 }),
        wall0,
        target,
      ),
    ).toEqual({ kind: 'wake', requestId: 'req-1', atS: 2.4, queue: 'm2-product-updates', rounds: 8 });
  });

  it('reads a wake-up before the burst as a negative time', () => {
    expect(
      scalerLogEntry(
        logLine('idle watch saw work', '2026-12-02T18:59:45.000+00:00', { queue: queueUrl, rounds: 1 }),
        wall0,
        target,
      )?.atS,
    ).toBe(-15);
  });

  it("reads a scale of the burst's Deployment", () => {
    expect(
      scalerLogEntry(
        logLine('scaled', '2026-12-02T19:00:02.900Z', { ...target, from: 0, to: 10, reason: 'backlog' }),
        wall0,
        target,
      ),
    ).toEqual({ kind: 'scaled', requestId: 'req-1', atS: 2.9, from: 0, to: 10 });
  });

  it.each([
    [
      'another Deployment scaled',
      logLine('scaled', '2026-12-02T19:00:03Z', { ...target, deployment: 'm2-other', from: 0, to: 1 }),
    ],
    ['another message', logLine('reconcile triggered', '2026-12-02T19:00:03Z', { kind: 'schedule' })],
    [
      'no request id',
      {
        ...logLine('idle watch saw work', '2026-12-02T19:00:03Z', { queue: queueUrl }),
        function_request_id: undefined,
      },
    ],
    ['no timestamp', { ...logLine('idle watch saw work', 'never', { queue: queueUrl }) }],
  ])('ignores %s', (_name, line) => {
    expect(scalerLogEntry(line, wall0, target)).toBeUndefined();
  });
});

describe('timedChanges', () => {
  it('gives each change the time of its log line, in order', () => {
    expect(
      timedChanges(
        [
          { from: 0, to: 10 },
          { from: 10, to: 0 },
        ],
        [
          { atS: 2.9, from: 0, to: 10 },
          { atS: 181, from: 10, to: 0 },
        ],
      ),
    ).toEqual([
      { from: 0, to: 10, atS: 2.9 },
      { from: 10, to: 0, atS: 181 },
    ]);
  });

  it('leaves a change without a matching line untimed', () => {
    expect(
      timedChanges(
        [
          { from: 0, to: 10 },
          { from: 10, to: 4 },
        ],
        [{ atS: 2.9, from: 0, to: 8 }],
      ),
    ).toEqual([
      { from: 0, to: 10 },
      { from: 10, to: 4 },
    ]);
  });
});

const call = (over: Partial<ScalerCall> & Pick<ScalerCall, 'atS'>): ScalerCall => ({
  startedAtS: over.atS,
  durationMs: 58_000,
  changes: [],
  wakes: [],
  ...over,
});

describe('wakeOf', () => {
  it('finds the invocation that scaled up and the idle-watch read before it', () => {
    // Prepare: the burst 20 s into a minute; the watch woke twice in that invocation (a brief
    // message earlier on another queue, then the burst), the next minute scaled further.
    const calls = [
      call({ atS: 40, changes: [{ from: 10, to: 12, atS: 41 }] }),
      call({
        atS: -20,
        wakes: [
          { atS: -10, queue: 'm2-other', rounds: 3 },
          { atS: 2.4, queue: 'm2-product-updates', rounds: 4 },
        ],
        changes: [{ from: 0, to: 10, atS: 2.9 }],
      }),
    ];

    // Act
    const wake = wakeOf(calls);

    // Assess
    expect(wake).toEqual({
      scheduleAtS: -20,
      startedAtS: -20,
      idleWatch: { atS: 2.4, queue: 'm2-product-updates', rounds: 4 },
      scaledUpAtS: 2.9,
      from: 0,
      to: 10,
    });
  });

  it('has no idle watch when a reconcile pass saw the backlog itself', () => {
    // Prepare: the burst landed in the seconds between two invocations' watches.
    const calls = [
      call({ atS: -59 }),
      call({ atS: 1, startedAtS: 1.2, changes: [{ from: 0, to: 10, atS: 1.9 }] }),
    ];

    // Act
    const wake = wakeOf(calls);

    // Assess
    expect(wake).toEqual({ scheduleAtS: 1, startedAtS: 1.2, scaledUpAtS: 1.9, from: 0, to: 10 });
  });

  it('skips scale-downs and has nothing when nothing scaled up', () => {
    expect(wakeOf([call({ atS: 0, changes: [{ from: 3, to: 0 }] })])).toBeUndefined();
  });
});

describe('formatWake', () => {
  it('says which schedule, when the idle watch saw the backlog, and when it scaled', () => {
    expect(
      formatWake(
        {
          scheduleAtS: -20,
          startedAtS: -20,
          idleWatch: { atS: 2.4, queue: 'm2-product-updates', rounds: 8 },
          scaledUpAtS: 2.9,
          from: 0,
          to: 10,
        },
        queueUrl,
      ),
    ).toBe('schedule at -20 s; idle watch saw the backlog at 2.4 s (read 8 of its watch); 0 → 10 at 2.9 s');
  });

  it('says when an event waited for the previous invocation and when no watch woke it', () => {
    expect(formatWake({ scheduleAtS: 40, startedAtS: 41.2, from: 0, to: 10 }, queueUrl)).toBe(
      'schedule at 40 s, started at 41 s after the previous invocation ended; no idle-watch wake-up before it: a reconcile pass saw the backlog; 0 → 10',
    );
  });

  it('names another queue the watch woke on', () => {
    expect(
      formatWake(
        {
          scheduleAtS: 0,
          startedAtS: 0,
          idleWatch: { atS: 5, queue: 'm2-other', rounds: 2 },
          from: 0,
          to: 1,
        },
        queueUrl,
      ),
    ).toContain('idle watch saw work on m2-other at 5.0 s');
  });

  it('says when nothing scaled up', () => {
    expect(formatWake(undefined, queueUrl)).toBe('no consumerScaler invocation scaled the Deployment up');
  });
});
