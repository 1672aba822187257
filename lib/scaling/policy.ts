import type { ScalingBounds } from './target.ts';

/** One reading of a queue: SQS approximate counts, plus the arrival rate when CloudWatch has it. */
export interface QueueReading {
  /** ApproximateNumberOfMessages: waiting to be received. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received by a consumer, not yet deleted. */
  readonly inFlight: number;
  /** ApproximateNumberOfMessagesDelayed: sent with a delay, not yet receivable. */
  readonly delayed: number;
  /** NumberOfMessagesSent per second over the latest CloudWatch minute; undefined when unknown. */
  readonly arrivalsPerSecond?: number;
}

/** What the policy remembers between readings (kept in a Deployment annotation). Times in ms since the epoch. */
export interface ScalerState {
  /** Last reading that advanced the counters (readings closer than `readSpacingSeconds` do not). */
  readonly lastReadAt?: number;
  /** Last time the queue had a backlog, messages in flight or arrivals. */
  readonly lastActiveAt?: number;
  /** Consecutive counted readings with nothing visible, in flight (or delayed, when counted). */
  readonly emptyReads: number;
  /** Consecutive counted readings with something to do. */
  readonly busyReads: number;
  /**
   * Targets of the scale-down window as a monotonic queue: replicas strictly decreasing, times
   * increasing, so the first entry is the window's maximum and the later ones take over as it
   * expires (the exact sliding-window maximum, in a few entries).
   */
  readonly peaks?: readonly Peak[];
  /** Last replica change. */
  readonly lastScaleAt?: number;
}

/** A target and when it was last wanted. */
export interface Peak {
  readonly replicas: number;
  readonly at: number;
}

export const initialState: ScalerState = Object.freeze({ emptyReads: 0, busyReads: 0 });

/** Tuning shared by all targets (environment of the function). */
export interface PolicySettings {
  /** Count ApproximateNumberOfMessagesDelayed as backlog (scale up for messages not yet receivable). */
  readonly includeDelayed: boolean;
  /** A scale-down never goes below the highest target seen within this window (hysteresis). */
  readonly scaleDownWindowSeconds: number;
  /** Consistent readings needed before trusting an empty queue (scale to zero) or a small backlog at zero. */
  readonly confirmReads: number;
  /** Readings closer together than this count once (overlapping invocations, re-decisions after a conflict). */
  readonly readSpacingSeconds: number;
  /** At most this many replicas added per decision; undefined = straight to the target. */
  readonly maxSurge?: number;
  /**
   * Ignore changes within this fraction of the current replicas (HPA's tolerance is 0.1), except
   * to reach the min, the arrival-rate floor or one pod for work in flight.
   */
  readonly tolerance: number;
  /** The arrival-rate floor provisions for this busy fraction: ceil(arrivals × seconds / utilization). */
  readonly floorUtilization: number;
}

export const defaultPolicySettings: PolicySettings = Object.freeze({
  includeDelayed: false,
  scaleDownWindowSeconds: 180,
  confirmReads: 2,
  readSpacingSeconds: 5,
  tolerance: 0.1,
  floorUtilization: 0.8,
});

export interface PolicyInput {
  readonly bounds: ScalingBounds;
  readonly settings: PolicySettings;
  /** spec.replicas now. */
  readonly current: number;
  /** undefined: the queue could not be read (fail-static). */
  readonly reading: QueueReading | undefined;
  readonly state: ScalerState;
  /** ms since the epoch. */
  readonly now: number;
}

export type DecisionKind = 'up' | 'down' | 'hold';

/** What to do with one target, why, and what to remember. */
export interface Decision {
  readonly replicas: number;
  readonly kind: DecisionKind;
  readonly reason: string;
  readonly state: ScalerState;
  /**
   * Worth reading again soon: the queue has work, or a change is pending (a scale-down held by
   * the window, the tolerance or the cooldown; a start from zero awaiting confirmation). Only when
   * no target is active does an invocation stop early.
   */
  readonly active: boolean;
}

const clamp = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, n));

/** Adds a target to the window's monotonic queue, dropping expired and dominated entries. */
function addPeak(peaks: readonly Peak[], replicas: number, now: number, windowMs: number): Peak[] {
  const live = peaks.filter((p) => now - p.at < windowMs && p.replicas > replicas);
  return [...live, { replicas, at: now }];
}

/**
 * The scaling policy: desired replicas for one consumer Deployment from its queue reading.
 *
 * - target = clamp(max(ceil(backlog / messagesPerPod), arrival floor, 1 if anything is in flight),
 *   min, max); backlog = visible + in flight (+ delayed when configured); arrival floor (Little's
 *   law) = ceil(arrivals/s × secondsPerMessage / floorUtilization), at most the minute's messages.
 * - Up: straight to the target (optionally at most `maxSurge` more). From zero, a backlog smaller
 *   than one pod's share waits for a second consistent reading (stale counts after a delete).
 * - Down: never below the highest target of the last `scaleDownWindowSeconds`.
 * - Changes within `tolerance` of the current replicas are ignored (unless min, floor or an
 *   in-flight message require them).
 * - Zero: only after `confirmReads` consistent empty readings and `cooldownSeconds` without any
 *   backlog, in-flight message or arrival.
 * - No reading (SQS failed): hold — never scale down on missing data.
 *
 * @example decideReplicas({ bounds, settings: defaultPolicySettings, current: 0, reading: { visible: 10000, inFlight: 0, delayed: 0 }, state: initialState, now: Date.now() })
 */
export function decideReplicas(input: PolicyInput): Decision {
  const { bounds, settings, current, reading, state, now } = input;

  if (reading === undefined) {
    const replicas = Math.max(current, bounds.minReplicas);
    return {
      replicas,
      kind: replicas > current ? 'up' : 'hold',
      reason: `queue unreadable: holding ${replicas} (never scale down without a reading)`,
      state: replicas > current ? { ...state, lastScaleAt: now } : state,
      active: false,
    };
  }

  const backlog = reading.visible + reading.inFlight + (settings.includeDelayed ? reading.delayed : 0);
  const arrivals = reading.arrivalsPerSecond ?? 0;
  const busy = backlog > 0 || arrivals > 0;

  const counted =
    state.lastReadAt === undefined || now - state.lastReadAt >= settings.readSpacingSeconds * 1000;
  // Counters stop at `confirmReads`: beyond that they carry no information, and a state that stops
  // changing is a state that need not be written again.
  const cap = (n: number): number => Math.min(n, settings.confirmReads);
  const emptyReads = busy ? 0 : cap(counted ? state.emptyReads + 1 : state.emptyReads);
  const busyReads = busy ? cap(counted ? state.busyReads + 1 : Math.max(state.busyReads, 1)) : 0;
  const lastActiveAt = busy ? now : (state.lastActiveAt ?? now);

  const byBacklog = Math.ceil(backlog / bounds.messagesPerPod);
  // Little's law: arrivals/s × seconds per message busy consumers — but never more than the
  // messages of the measured minute (one 10-minute message is not a stream needing 10 pods).
  const byArrivals =
    bounds.secondsPerMessage === undefined
      ? 0
      : Math.min(
          Math.ceil((arrivals * bounds.secondsPerMessage) / settings.floorUtilization - 1e-9),
          Math.ceil(arrivals * 60 - 1e-9),
        );
  const byInFlight = reading.inFlight > 0 ? 1 : 0;
  const raw = Math.max(byBacklog, byArrivals, byInFlight);
  const target = clamp(raw, bounds.minReplicas, bounds.maxReplicas);

  const peaks = addPeak(state.peaks ?? [], target, now, settings.scaleDownWindowSeconds * 1000);
  const peak = peaks[0] ?? { replicas: target, at: now };

  const base: ScalerState = {
    emptyReads,
    busyReads,
    lastActiveAt,
    peaks,
    ...(counted
      ? { lastReadAt: now }
      : state.lastReadAt === undefined
        ? {}
        : { lastReadAt: state.lastReadAt }),
    ...(state.lastScaleAt === undefined ? {} : { lastScaleAt: state.lastScaleAt }),
  };
  const why = explain(reading, settings, bounds, backlog, byBacklog, byArrivals, raw, target);

  if (target > current) {
    const unconfirmed =
      current === 0 &&
      byBacklog <= 1 &&
      byArrivals === 0 &&
      busyReads < settings.confirmReads &&
      reading.inFlight === 0;
    if (unconfirmed) {
      return {
        replicas: current,
        kind: 'hold',
        reason: `${why}; waiting for ${settings.confirmReads} consistent readings before starting from zero`,
        state: base,
        active: true,
      };
    }
    const required = Math.max(bounds.minReplicas, byArrivals, byInFlight);
    if (current > 0 && current >= required && target <= current * (1 + settings.tolerance)) {
      return {
        replicas: current,
        kind: 'hold',
        reason: `${why}; within ${Math.round(settings.tolerance * 100)} % of ${current}: hold`,
        state: base,
        active: true,
      };
    }
    const replicas = settings.maxSurge === undefined ? target : Math.min(target, current + settings.maxSurge);
    const surge = replicas < target ? ` (max surge ${settings.maxSurge})` : '';
    return {
      replicas,
      kind: 'up',
      reason: `${why}; scale up ${current} → ${replicas}${surge}`,
      state: { ...base, lastScaleAt: now },
      active: true,
    };
  }

  if (target === current) {
    return { replicas: current, kind: 'hold', reason: `${why}; at target`, state: base, active: busy };
  }

  // target < current: scale down, within the window's peak, and to zero only when proven idle.
  const stabilized = Math.max(target, peak.replicas);
  if (stabilized >= current) {
    return {
      replicas: current,
      kind: 'hold',
      reason: `${why}; scale-down held: peak ${peak.replicas} within the last ${settings.scaleDownWindowSeconds} s`,
      state: base,
      active: true,
    };
  }
  if (stabilized > 0 && stabilized >= current * (1 - settings.tolerance)) {
    return {
      replicas: current,
      kind: 'hold',
      reason: `${why}; ${stabilized} is within ${Math.round(settings.tolerance * 100)} % of ${current}: hold`,
      state: base,
      // Pending only while a window peak above the target is still to expire.
      active: busy || peak.replicas > target,
    };
  }
  let replicas = stabilized;
  let note = '';
  if (replicas === 0) {
    const quietSeconds = Math.floor((now - lastActiveAt) / 1000);
    if (emptyReads < settings.confirmReads) {
      replicas = 1;
      note = `; zero after ${settings.confirmReads} consistent empty readings (have ${emptyReads})`;
    } else if (quietSeconds < bounds.cooldownSeconds) {
      replicas = 1;
      note = `; zero after ${bounds.cooldownSeconds} s cooldown (quiet for ${quietSeconds} s)`;
    } else {
      note = `; idle for ${quietSeconds} s with ${emptyReads} empty readings`;
    }
  }
  if (replicas >= current) {
    return { replicas: current, kind: 'hold', reason: `${why}; hold${note}`, state: base, active: true };
  }
  return {
    replicas,
    kind: 'down',
    reason: `${why}; scale down ${current} → ${replicas}${note}`,
    state: { ...base, lastScaleAt: now },
    active: busy || replicas > target,
  };
}

function explain(
  reading: QueueReading,
  settings: PolicySettings,
  bounds: ScalingBounds,
  backlog: number,
  byBacklog: number,
  byArrivals: number,
  raw: number,
  target: number,
): string {
  const parts = [`visible ${reading.visible}`, `in flight ${reading.inFlight}`];
  if (settings.includeDelayed) parts.push(`delayed ${reading.delayed}`);
  let text = `backlog ${backlog} (${parts.join(', ')}) / ${bounds.messagesPerPod} per pod → ${byBacklog}`;
  if (byArrivals > 0) {
    text += `; arrivals ${round(reading.arrivalsPerSecond ?? 0)}/s × ${bounds.secondsPerMessage} s → floor ${byArrivals}`;
  }
  if (reading.inFlight > 0 && byBacklog === 0) text += '; in flight → at least 1';
  if (target !== raw) text += `; clamped to ${target} (min ${bounds.minReplicas}, max ${bounds.maxReplicas})`;
  return text;
}

const round = (n: number): string => (Math.round(n * 100) / 100).toString();
