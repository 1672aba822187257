/**
 * The pure parts of the burst step (scripts/demo/burst.ts): the simulated consumer's rate model,
 * the EventBridge events that wake consumerScaler, the backlog alarm's state, and the timeline
 * figures read from the samples. No I/O here, so all of it is unit-tested.
 */
import { randomUUID } from 'node:crypto';
import type { BurstSample } from '../burst.ts';

/** What the EventBridge rule of serverless.yml matches: `${service}-${stage}-shop-queue-backlog`. */
export const backlogAlarmName = 'm2-eks-pipeline-dev-shop-queue-backlog';
/** The 1-minute backstop schedule's rule (serverless.yml `consumerScaler.events[0]`). */
export const backstopRuleName = 'm2-eks-pipeline-dev-consumer-scaler-backstop';

const account = '123456789012';

// ---------------------------------------------------------------------------------------------
// Rate model of the simulated consumer

export interface QuotaInput {
  /** Ready pods of the consumer Deployment right now. */
  readonly readyPods: number;
  /** Since the previous tick. */
  readonly elapsedMs: number;
  /** Messages one Ready pod processes per second. */
  readonly ratePerReadyPod: number;
  /** The fraction of a message left over from earlier ticks (0 ≤ carry < 1). */
  readonly carry: number;
  /**
   * A stalled tick (a slow apiserver or moto answer) counts at most this long, so the consumer
   * never takes a lump of messages no pod could have handled in a tick.
   */
  readonly maxElapsedMs?: number;
}

export interface Quota {
  /** Whole messages to receive this tick. */
  readonly take: number;
  /** The fraction carried to the next tick. */
  readonly carry: number;
}

/**
 * How many messages the consumer takes in one tick: Ready pods × rate × elapsed time, plus the
 * fraction left over from earlier ticks (so 4 ticks of 0.25 s at 1 msg/s take exactly one). No
 * Ready pod: nothing, and the fraction is dropped (idle capacity is not banked). A tick whose
 * receive comes back short does not bank the shortfall either — the caller keeps only `carry`.
 *
 * @example consumeQuota({ readyPods: 10, elapsedMs: 250, ratePerReadyPod: 7, carry: 0 }) // { take: 17, carry: 0.5 }
 */
export function consumeQuota(input: QuotaInput): Quota {
  const { readyPods, ratePerReadyPod } = input;
  if (readyPods <= 0 || ratePerReadyPod <= 0) return { take: 0, carry: 0 };
  const elapsedMs = Math.min(Math.max(0, input.elapsedMs), input.maxElapsedMs ?? 2000);
  const due = (readyPods * ratePerReadyPod * elapsedMs) / 1000 + Math.max(0, input.carry);
  // 1e-9: 0.1 + 0.2 style rounding must not lose a whole message.
  const take = Math.floor(due + 1e-9);
  return { take, carry: Math.max(0, due - take) };
}

/** Default processing rate: 10 Ready pods (the Deployment's max) drain 10,000 messages in about 2.4 min. */
export const defaultRatePerReadyPod = 7;

// ---------------------------------------------------------------------------------------------
// The backlog alarm and the EventBridge events

export type AlarmState = 'OK' | 'ALARM';

/**
 * The backlog alarm (ApproximateNumberOfMessagesVisible ≥ 1, 1 of 1 datapoints) evaluated on one
 * reading: the new state when it changes, undefined when it stays. Alarms emit an event on a
 * transition only, which is why the schedule exists as a backstop.
 */
export function alarmTransition(current: AlarmState, visible: number): AlarmState | undefined {
  const next: AlarmState = visible >= 1 ? 'ALARM' : 'OK';
  return next === current ? undefined : next;
}

/** Where the emulated EventBridge sources stand: the alarm's state and the schedule's next slot. */
export interface TriggerClock {
  readonly alarm: AlarmState;
  /** When (s into the step) the alarm entered its state, and the datapoint that put it there. */
  readonly alarmSinceS: number;
  readonly alarmValue: number;
  /** The schedule fires at the first reading at or after this (s into the step). */
  readonly nextScheduleS: number;
}

export const initialTriggerClock = (scheduleIntervalS: number): TriggerClock => ({
  alarm: 'OK',
  alarmSinceS: 0,
  alarmValue: 0,
  nextScheduleS: scheduleIntervalS,
});

/** What one reading sets off. */
export interface DueTriggers {
  readonly clock: TriggerClock;
  /** The alarm changed state (an event only reaches consumerScaler for ALARM: the rule matches that). */
  readonly alarm?: {
    readonly state: AlarmState;
    readonly previousState: AlarmState;
    readonly previousAtS: number;
    readonly previousValue: number;
  };
  /** The backstop schedule is due. */
  readonly schedule: boolean;
}

/**
 * Plays EventBridge's two sources on one queue reading: the backlog alarm evaluated on it, and the
 * rate(N s) schedule. After a stall the schedule fires once and resumes at its next slot (missed
 * slots are not replayed in a burst).
 */
export function triggersDue(
  clock: TriggerClock,
  reading: { readonly atS: number; readonly visible: number },
  scheduleIntervalS: number,
): DueTriggers {
  if (!(scheduleIntervalS > 0))
    throw new RangeError(`scheduleIntervalS must be > 0, not ${scheduleIntervalS}`);
  const changed = alarmTransition(clock.alarm, reading.visible);
  const schedule = reading.atS >= clock.nextScheduleS;
  let nextScheduleS = clock.nextScheduleS;
  while (nextScheduleS <= reading.atS) nextScheduleS += scheduleIntervalS;
  return {
    clock: {
      ...(changed === undefined
        ? { alarm: clock.alarm, alarmSinceS: clock.alarmSinceS, alarmValue: clock.alarmValue }
        : { alarm: changed, alarmSinceS: reading.atS, alarmValue: reading.visible }),
      nextScheduleS,
    },
    ...(changed === undefined
      ? {}
      : {
          alarm: {
            state: changed,
            previousState: clock.alarm,
            previousAtS: clock.alarmSinceS,
            previousValue: clock.alarmValue,
          },
        }),
    schedule,
  };
}

/** "2026-11-28T06:00:00Z": EventBridge's `time` (whole seconds). */
const eventTime = (at: Date): string => `${at.toISOString().slice(0, 19)}Z`;
/** "2026-11-28T06:00:00.000+0000": CloudWatch's state timestamp. */
const stateTimestamp = (at: Date): string => `${at.toISOString().slice(0, 23)}+0000`;
/** "28/11/26 05:59:00": how CloudWatch writes a datapoint's time in the reason. */
function datapointTime(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getUTCDate())}/${two(at.getUTCMonth() + 1)}/${two(at.getUTCFullYear() % 100)} ${two(
    at.getUTCHours(),
  )}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
}
const reasonFor = (state: AlarmState, value: number, at: Date): string =>
  `Threshold Crossed: 1 out of the last 1 datapoints [${value.toFixed(1)} (${datapointTime(at)})] was ${
    state === 'ALARM' ? '' : 'not '
  }greater than or equal to the threshold (1.0).`;

export interface AlarmEventInput {
  readonly state: AlarmState;
  readonly previousState: AlarmState;
  /** When the alarm changed state. */
  readonly at: Date;
  /** When it entered the previous state. */
  readonly previousAt: Date;
  /** The datapoint that crossed the threshold (visible messages). */
  readonly value: number;
  /** The datapoint of the previous state change. */
  readonly previousValue?: number;
  readonly alarmName?: string;
  readonly region?: string;
  readonly id?: string;
}

/**
 * An EventBridge "CloudWatch Alarm State Change" event of the shop-queue backlog alarm, shaped as
 * events/cloudwatch-alarm.json (what EventBridge delivers to consumerScaler).
 */
export function alarmStateChangeEvent(input: AlarmEventInput): Record<string, unknown> {
  const region = input.region ?? 'us-east-1';
  const alarmName = input.alarmName ?? backlogAlarmName;
  return {
    version: '0',
    id: input.id ?? randomUUID(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    time: eventTime(input.at),
    region,
    resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: input.state,
        reason: reasonFor(input.state, input.value, input.at),
        timestamp: stateTimestamp(input.at),
      },
      previousState: {
        value: input.previousState,
        reason: reasonFor(input.previousState, input.previousValue ?? 0, input.previousAt),
        timestamp: stateTimestamp(input.previousAt),
      },
      configuration: {
        description: 'Some SQS queue has visible messages; wakes consumerScaler through EventBridge',
        metrics: [
          {
            id: 'backlog',
            expression: 'SELECT MAX(ApproximateNumberOfMessagesVisible) FROM SCHEMA("AWS/SQS", QueueName)',
            period: 60,
            returnData: true,
          },
        ],
      },
    },
  };
}

/** An EventBridge "Scheduled Event" of the backstop rule, shaped as events/schedule.json. */
export function scheduledEvent(
  at: Date,
  options: { readonly rule?: string; readonly region?: string; readonly id?: string } = {},
): Record<string, unknown> {
  const region = options.region ?? 'us-east-1';
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: eventTime(at),
    region,
    resources: [`arn:aws:events:${region}:${account}:rule/${options.rule ?? backstopRuleName}`],
    detail: {},
  };
}

// ---------------------------------------------------------------------------------------------
// The timeline

export interface BurstTimeline {
  /** First sample whose desired replicas rose above the first sample's. */
  readonly firstScaleUpS?: number;
  readonly peakReplicas: number;
  /** First sample after the send finished with nothing visible or in flight. */
  readonly drainedAtS?: number;
  /** First sample from the drain on with 0 desired and 0 Ready replicas. */
  readonly zeroAtS?: number;
}

/**
 * The figures of the step, read from the samples.
 *
 * @example summarizeBurst(samples, 5.2) // { firstScaleUpS: 2, peakReplicas: 10, drainedAtS: 151, zeroAtS: 192 }
 */
export function summarizeBurst(samples: readonly BurstSample[], sendSeconds: number): BurstTimeline {
  const start = samples[0]?.specReplicas ?? 0;
  const firstScaleUpS = samples.find((s) => s.specReplicas > start)?.atS;
  const peakReplicas = samples.reduce((peak, s) => Math.max(peak, s.specReplicas, s.readyReplicas), 0);
  const drained = samples.find((s) => s.atS >= sendSeconds && s.visible === 0 && s.inFlight === 0);
  const drainedAtS = drained?.atS;
  const zeroAtS =
    drainedAtS === undefined
      ? undefined
      : samples.find((s) => s.atS >= drainedAtS && s.specReplicas === 0 && s.readyReplicas === 0)?.atS;
  return {
    ...(firstScaleUpS === undefined ? {} : { firstScaleUpS }),
    peakReplicas,
    ...(drainedAtS === undefined ? {} : { drainedAtS }),
    ...(zeroAtS === undefined ? {} : { zeroAtS }),
  };
}

const count = (n: number): string => n.toLocaleString('en-US');
/** Seconds as the progress lines show them: whole seconds from 10 s on, one decimal below. */
export const seconds = (s: number): string => (s < 10 ? s.toFixed(1) : Math.round(s).toString());

/**
 * One live progress line.
 *
 * @example formatSample(sample) // "t=42s  queue 6,512 (+120 in flight)  replicas 10/10 ready  consumed 3,368"
 */
export function formatSample(sample: BurstSample): string {
  return `t=${seconds(sample.atS)}s  queue ${count(sample.visible)} (+${count(sample.inFlight)} in flight)  replicas ${
    sample.readyReplicas
  }/${sample.specReplicas} ready  consumed ${count(sample.consumed)}`;
}

/** The closing lines: what the step showed, in one glance. */
export function formatTimeline(timeline: BurstTimeline & { readonly totalS: number }): string {
  const at = (s: number | undefined, what: string) =>
    s === undefined ? `${what} not reached` : `${what} at ${seconds(s)} s`;
  return [
    at(timeline.firstScaleUpS, 'first scale-up'),
    `peak ${timeline.peakReplicas} replicas`,
    at(timeline.drainedAtS, 'queue drained'),
    at(timeline.zeroAtS, 'back to zero'),
    `total ${seconds(timeline.totalS)} s`,
  ].join('; ');
}
