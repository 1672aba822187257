/**
 * The pure parts of the burst step (scripts/demo/burst.ts): the simulated consumer's rate model,
 * the schedule that wakes consumerScaler and its EventBridge event, what the scaler's structured
 * logs say (idle-watch wake-ups, scales), and the timeline figures read from the samples. No I/O
 * here, so all of it is unit-tested.
 */
import { randomUUID } from 'node:crypto';
import { queueNameOf } from '../../../lib/scaling/target.ts';
import type { BurstSample } from '../burst.ts';

/** The 1-minute schedule's rule (serverless.yml `consumerScaler.events[0]`). */
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
// The schedule and what consumerScaler's logs say

/**
 * When (s into the step) the rate(N s) schedule delivers next: the first of its slots
 * `firstS + k × intervalS` after `afterS`. A late loop (a stalled event loop) thus delivers once and
 * resumes at the next slot: missed slots are not replayed, and no slot is delivered twice.
 *
 * @example nextScheduleS(-20, 60, -20) // 40
 */
export function nextScheduleS(firstS: number, intervalS: number, afterS: number): number {
  if (!(intervalS > 0)) throw new RangeError(`scheduleIntervalS must be > 0, not ${intervalS}`);
  if (afterS < firstS) return firstS;
  return firstS + (Math.floor((afterS - firstS) / intervalS) + 1) * intervalS;
}

/** "2026-11-28T06:00:00Z": EventBridge's `time` (whole seconds). */
const eventTime = (at: Date): string => `${at.toISOString().slice(0, 19)}Z`;

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
// consumerScaler's invocations, from their results and structured logs

/** One consumerScaler invocation of the step, as the host returned it and as its log lines tell it. */
export interface ScalerCall {
  /** When the schedule delivered the event (s into the step; negative before the burst). */
  readonly atS: number;
  /**
   * When the host started it: later than `atS` when the previous invocation was still running (the
   * demo's host runs one at a time; AWS, with reserved concurrency 2, would start a second container).
   */
  readonly startedAtS: number;
  readonly durationMs: number;
  /**
   * Replica changes of the burst's Deployment made by this invocation (other targets left out), from
   * its result; `atS` from its matching `scaled` log line.
   */
  readonly changes: readonly { readonly from: number; readonly to: number; readonly atS?: number }[];
  /** Its idle watch's wake-ups (log line `idle watch saw work`): when, the queue's name, after how many reads. */
  readonly wakes: readonly IdleWake[];
  readonly error?: string;
  /** Reconcile passes of the invocation. */
  readonly passes?: number;
  readonly stoppedBecause?: string;
}

export interface IdleWake {
  readonly atS: number;
  readonly queue: string;
  /** Rounds of depth reads of the watch, this one included. */
  readonly rounds: number;
}

/** What one consumerScaler log line says about the step. */
export type ScalerLogEntry =
  | ({ readonly kind: 'wake'; readonly requestId: string } & IdleWake)
  | {
      readonly kind: 'scaled';
      readonly requestId: string;
      readonly atS: number;
      readonly from: number;
      readonly to: number;
    };

const queueName = (url: string): string => {
  try {
    return queueNameOf(url);
  } catch {
    return url;
  }
};

/**
 * Reads one of consumerScaler's Powertools JSON lines (LambdaHost.listen): its idle watch seeing work
 * (`idle watch saw work`, any queue) or a scale of the burst's Deployment (`scaled`), at the line's
 * own `timestamp` in seconds from `wall0` (epoch ms of t = 0). Anything else, or a line without its
 * request id or time: undefined.
 *
 * @example scalerLogEntry({ message: 'idle watch saw work', timestamp: '…', function_request_id: 'r1', queue: url, rounds: 7 }, wall0, target) // { kind: 'wake', atS: 2.4, queue: 'm2-…', rounds: 7, requestId: 'r1' }
 */
export function scalerLogEntry(
  line: Readonly<Record<string, unknown>>,
  wall0: number,
  target: { readonly namespace: string; readonly deployment: string },
): ScalerLogEntry | undefined {
  const requestId = line.function_request_id;
  const at = typeof line.timestamp === 'string' ? Date.parse(line.timestamp) : Number.NaN;
  if (typeof requestId !== 'string' || Number.isNaN(at)) return undefined;
  const atS = Math.round((at - wall0) / 100) / 10;
  if (line.message === 'idle watch saw work' && typeof line.queue === 'string') {
    const rounds = typeof line.rounds === 'number' ? line.rounds : 0;
    return { kind: 'wake', requestId, atS, queue: queueName(line.queue), rounds };
  }
  if (
    line.message === 'scaled' &&
    line.namespace === target.namespace &&
    line.deployment === target.deployment &&
    typeof line.from === 'number' &&
    typeof line.to === 'number'
  ) {
    return { kind: 'scaled', requestId, atS, from: line.from, to: line.to };
  }
  return undefined;
}

/**
 * The result's changes with the times of their `scaled` log lines, matched in order (a pass logs
 * each change it writes); a change whose line does not match keeps no time rather than a guessed one.
 */
export function timedChanges(
  changes: readonly { readonly from: number; readonly to: number }[],
  scaled: readonly { readonly atS: number; readonly from: number; readonly to: number }[],
): ScalerCall['changes'] {
  return changes.map((c, i) => {
    const line = scaled[i];
    return line !== undefined && line.from === c.from && line.to === c.to
      ? { from: c.from, to: c.to, atS: line.atS }
      : { from: c.from, to: c.to };
  });
}

/** How consumerScaler came to scale the burst's Deployment up the first time. */
export interface ScalerWake {
  /** When the schedule delivered the event of the invocation that did it. */
  readonly scheduleAtS: number;
  readonly startedAtS: number;
  /** Its idle watch's last wake-up before the scale-up; absent when a reconcile pass saw the backlog itself. */
  readonly idleWatch?: IdleWake;
  /** When it scaled up (its log line). */
  readonly scaledUpAtS?: number;
  readonly from: number;
  readonly to: number;
}

/** The first invocation (by start) that scaled the Deployment up, and what woke it; undefined when none did. */
export function wakeOf(calls: readonly ScalerCall[]): ScalerWake | undefined {
  for (const call of [...calls].sort((a, b) => a.startedAtS - b.startedAtS)) {
    const up = call.changes.find((c) => c.to > c.from);
    if (up === undefined) continue;
    const upAtS = up.atS;
    const idleWatch = upAtS === undefined ? call.wakes[0] : call.wakes.filter((w) => w.atS <= upAtS).at(-1);
    return {
      scheduleAtS: call.atS,
      startedAtS: call.startedAtS,
      ...(idleWatch === undefined ? {} : { idleWatch }),
      ...(upAtS === undefined ? {} : { scaledUpAtS: upAtS }),
      from: up.from,
      to: up.to,
    };
  }
  return undefined;
}

/**
 * One line: how the scaler was woken.
 *
 * @example formatWake(wake, burstQueueUrl) // "schedule at -20 s; idle watch saw the backlog at 2.4 s (read 8 of its watch); 0 → 10 at 2.9 s"
 */
export function formatWake(wake: ScalerWake | undefined, burstQueueUrl?: string): string {
  if (wake === undefined) return 'no consumerScaler invocation scaled the Deployment up';
  const queue = burstQueueUrl === undefined ? undefined : queueName(burstQueueUrl);
  // IPC to the host takes milliseconds: a later start means the event waited for the previous invocation.
  const waited = wake.startedAtS - wake.scheduleAtS >= 0.5;
  const parts = [
    `schedule at ${seconds(wake.scheduleAtS)} s${
      waited ? `, started at ${seconds(wake.startedAtS)} s after the previous invocation ended` : ''
    }`,
  ];
  const w = wake.idleWatch;
  parts.push(
    w === undefined
      ? 'no idle-watch wake-up before it: a reconcile pass saw the backlog'
      : `idle watch saw ${w.queue === queue ? 'the backlog' : `work on ${w.queue}`} at ${seconds(w.atS)} s (read ${w.rounds} of its watch)`,
  );
  parts.push(
    `${wake.from} → ${wake.to}${wake.scaledUpAtS === undefined ? '' : ` at ${seconds(wake.scaledUpAtS)} s`}`,
  );
  return parts.join('; ');
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
/** Seconds as the progress lines show them: whole seconds from ±10 s on, one decimal below. */
export const seconds = (s: number): string => (Math.abs(s) < 10 ? s.toFixed(1) : Math.round(s).toString());

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
