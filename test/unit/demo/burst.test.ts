import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConsumerScalerConfig } from '../../../lib/config/consumerScalerConfig.ts';
import { parseScalerTrigger } from '../../../lib/scaling/trigger.ts';
import {
  alarmStateChangeEvent,
  alarmTransition,
  backlogAlarmName,
  consumeQuota,
  formatSample,
  formatTimeline,
  initialTriggerClock,
  scheduledEvent,
  summarizeBurst,
  type TriggerClock,
  triggersDue,
} from '../../../scripts/demo/burst/model.ts';
import { type BurstSample, burstScalerEnv } from '../../../scripts/demo/burst.ts';

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

describe('alarmTransition', () => {
  it.each([
    ['OK', 0, undefined],
    ['OK', 1, 'ALARM'],
    ['OK', 10_000, 'ALARM'],
    ['ALARM', 5, undefined],
    ['ALARM', 0, 'OK'],
  ] as const)('goes from %s with %i visible to %s', (current, visible, next) => {
    expect(alarmTransition(current, visible)).toBe(next);
  });
});

describe('triggersDue', () => {
  /** Plays readings through the emulated EventBridge; lists what fired when. */
  function play(readings: readonly [atS: number, visible: number][], intervalS = 60): string[] {
    let clock: TriggerClock = initialTriggerClock(intervalS);
    const fired: string[] = [];
    for (const [atS, visible] of readings) {
      const due = triggersDue(clock, { atS, visible }, intervalS);
      clock = due.clock;
      if (due.alarm !== undefined) fired.push(`${atS}: ${due.alarm.previousState}→${due.alarm.state}`);
      if (due.schedule) fired.push(`${atS}: schedule`);
    }
    return fired;
  }

  it('raises the alarm on the first visible message and clears it when the queue is empty', () => {
    expect(
      play([
        [0.2, 0],
        [1, 50],
        [2, 9000],
        [150, 3],
        [151, 0],
        [152, 0],
      ]),
    ).toEqual(['1: OK→ALARM', '150: schedule', '151: ALARM→OK']);
  });

  it('fires the schedule once per interval, on the first reading at or after each slot', () => {
    expect(
      play([
        [59.9, 0],
        [60.1, 0],
        [61, 0],
        [119, 0],
        [120, 0],
        [180.4, 0],
      ]),
    ).toEqual(['60.1: schedule', '120: schedule', '180.4: schedule']);
  });

  it('fires a missed schedule once after a stall and resumes at its next slot', () => {
    expect(
      play([
        [10, 0],
        [200, 0],
        [239, 0],
        [240, 0],
      ]),
    ).toEqual(['200: schedule', '240: schedule']);
  });

  it('remembers when and with what the alarm entered its state, for the next event', () => {
    // Prepare
    let clock = initialTriggerClock(60);
    clock = triggersDue(clock, { atS: 1, visible: 40 }, 60).clock;

    // Act
    const due = triggersDue(clock, { atS: 150, visible: 0 }, 60);

    // Assess
    expect(due.alarm).toEqual({ state: 'OK', previousState: 'ALARM', previousAtS: 1, previousValue: 40 });
  });

  it('throws for an interval that would never advance', () => {
    expect(() => triggersDue(initialTriggerClock(0), { atS: 1, visible: 0 }, 0)).toThrow(RangeError);
  });
});

describe('alarmStateChangeEvent', () => {
  const at = new Date('2026-11-28T09:00:01.234Z');
  const event = alarmStateChangeEvent({
    state: 'ALARM',
    previousState: 'OK',
    at,
    previousAt: new Date('2026-11-28T08:58:00Z'),
    value: 250,
    id: 'fixed',
  });

  it('has the shape of events/cloudwatch-alarm.json', () => {
    expect(shapeOf(event)).toEqual(shapeOf(sampleEvent('cloudwatch-alarm.json')));
  });

  it('is recognised by consumerScaler as the backlog alarm going to ALARM', () => {
    expect(parseScalerTrigger(event)).toEqual({ kind: 'alarm', alarmName: backlogAlarmName, state: 'ALARM' });
  });

  it('names the alarm of the sample event', () => {
    // serverless.yml no longer deploys this alarm (each invocation's idle watch replaced it; README
    // consumerScaler → Triggers); the demo still emulates it, as an alarm an operator could wire.
    const sample = sampleEvent('cloudwatch-alarm.json') as { detail: { alarmName: string } };
    expect(backlogAlarmName).toBe(sample.detail.alarmName);
  });

  it('writes the times and the reason as CloudWatch does', () => {
    expect(event).toMatchObject({
      time: '2026-11-28T09:00:01Z',
      resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${backlogAlarmName}`],
      detail: {
        state: {
          value: 'ALARM',
          timestamp: '2026-11-28T09:00:01.234+0000',
          reason:
            'Threshold Crossed: 1 out of the last 1 datapoints [250.0 (28/11/26 09:00:01)] was greater than or equal to the threshold (1.0).',
        },
        previousState: {
          value: 'OK',
          reason:
            'Threshold Crossed: 1 out of the last 1 datapoints [0.0 (28/11/26 08:58:00)] was not greater than or equal to the threshold (1.0).',
        },
      },
    });
  });

  it('gives every event its own id unless one is given', () => {
    const input = { state: 'ALARM', previousState: 'OK', at, previousAt: at, value: 1 } as const;
    expect(alarmStateChangeEvent(input).id).not.toBe(alarmStateChangeEvent(input).id);
  });
});

describe('scheduledEvent', () => {
  const event = scheduledEvent(new Date('2026-11-28T09:01:00.500Z'), { id: 'fixed' });

  it('has the shape of events/schedule.json', () => {
    expect(shapeOf(event)).toEqual(shapeOf(sampleEvent('schedule.json')));
  });

  it('is recognised by consumerScaler as the backstop schedule', () => {
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

  it('sums the timeline up, saying what was not reached', () => {
    expect(formatTimeline({ firstScaleUpS: 1.6, peakReplicas: 10, drainedAtS: 151.2, totalS: 360 })).toBe(
      'first scale-up at 1.6 s; peak 10 replicas; queue drained at 151 s; back to zero not reached; total 360 s',
    );
  });
});

describe('burstScalerEnv', () => {
  it('is a valid consumerScaler configuration that shortens only the scale-down window', () => {
    // Act
    const config = loadConsumerScalerConfig({ ...burstScalerEnv });
    const defaults = loadConsumerScalerConfig({});

    // Assess
    expect(config.run.policy.scaleDownWindowSeconds).toBe(30);
    expect({ ...config.run, policy: { ...config.run.policy, scaleDownWindowSeconds: 0 } }).toEqual({
      ...defaults.run,
      policy: { ...defaults.run.policy, scaleDownWindowSeconds: 0 },
    });
  });
});
