import { desiredTarget, explainTarget } from './desiredTarget.ts';
import { isCounted, rememberReading } from './readingMemory.ts';
import { gateScaleDown, type ScaleDownVerdict, type ZeroVerdict } from './scaleDownGate.ts';
import { gateScaleUp, type ScaleUpVerdict } from './scaleUpGate.ts';
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
  /**
   * How long the oldest message has waited, in seconds (CloudWatch ApproximateAgeOfOldestMessage,
   * carried forward to now: waitSlo.ts oldestAgeNow); undefined when unknown.
   */
  readonly oldestAgeSeconds?: number;
  /** NumberOfMessagesDeleted per second over the latest CloudWatch minute (learnedThroughput.ts). */
  readonly deletedPerSecond?: number;
  /**
   * The fraction of the queue's backlog and arrivals the Deployment decided on sizes itself to, when
   * several Deployments consume the queue (backlogShare.ts); undefined = 1, the whole queue.
   */
  readonly share?: number;
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
  /** First reading of the current run of empty readings; undefined while busy. */
  readonly emptySince?: number;
  /** Consecutive counted readings the queue could not be read (only kept with a fallback floor). */
  readonly unreadableReads?: number;
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
  /**
   * Zero only after the queue has been read empty for this long, whatever the target's cooldown:
   * SQS's GetQueueAttributes reference says ApproximateNumberOfMessages, …NotVisible and …Delayed
   * "may not achieve consistency until at least 1 minute after the producers stop sending messages"
   * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html),
   * so two empty readings 5 s apart prove nothing with `cooldown-seconds: 0`.
   */
  readonly zeroSettleSeconds: number;
}

export const defaultPolicySettings: PolicySettings = Object.freeze({
  includeDelayed: false,
  scaleDownWindowSeconds: 180,
  confirmReads: 2,
  readSpacingSeconds: 5,
  tolerance: 0.1,
  floorUtilization: 0.8,
  zeroSettleSeconds: 60,
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

/**
 * Which rule of the policy decided: what tests and dashboards can rely on (the reason's wording is
 * for people and may change).
 */
export type DecisionRule =
  /** No reading: hold, or raise to min. */
  | 'unreadable'
  /** No reading for the declared number of readings: at least the fallback floor. */
  | 'fallback'
  | 'at-target'
  /** Scale-up gate. */
  | 'awaiting-confirmation'
  | 'within-tolerance'
  | 'scale-up'
  | 'max-surge'
  /** Scale-down gate. */
  | 'window-peak'
  | 'scale-down'
  /** Scale-to-zero gate: one pod kept (held, or the result of a scale-down), or zero. */
  | 'zero-unconfirmed'
  | 'zero-settling'
  | 'zero-cooling-down'
  | 'zero-idle'
  /** Held below its target by the namespace's consumer pod budget (podBudget.ts). */
  | 'budget';

/** What to do with one target, why, and what to remember. */
export interface Decision {
  readonly replicas: number;
  readonly kind: DecisionKind;
  readonly rule: DecisionRule;
  readonly reason: string;
  readonly state: ScalerState;
  /**
   * Worth reading again soon: the queue has work, or a change is pending (a scale-down held by
   * the window, the tolerance or the cooldown; a start from zero awaiting confirmation). Only when
   * no target is active does an invocation stop early.
   */
  readonly active: boolean;
}

/**
 * The scaling policy: desired replicas for one consumer Deployment from its queue reading.
 *
 * - Target (desiredTarget): clamp(max(ceil(backlog / messagesPerPod), arrival floor, 1 if anything
 *   is in flight), min, max); backlog = visible + in flight (+ delayed when configured); arrival
 *   floor (Little's law) = ceil(arrivals/s × secondsPerMessage / floorUtilization), at most the
 *   minute's messages.
 * - Up (gateScaleUp): straight to the target (optionally at most `maxSurge` more). From zero, a
 *   backlog smaller than one pod's share waits for a second consistent reading (stale counts after
 *   a delete).
 * - Down (gateScaleDown): never below the highest target of the last `scaleDownWindowSeconds`.
 * - Changes within `tolerance` of the current replicas are ignored (unless min, floor or an
 *   in-flight message require them).
 * - Zero (gateScaleToZero): only after `confirmReads` consistent empty readings spanning at least
 *   `zeroSettleSeconds`, and `cooldownSeconds` without any backlog, in-flight message or arrival.
 * - No reading (SQS failed): hold — never scale down on missing data; with a declared fallback,
 *   raise to at least its replicas once that many consecutive readings failed.
 *
 * @example decideReplicas({ bounds, settings: defaultPolicySettings, current: 0, reading: { visible: 10000, inFlight: 0, delayed: 0 }, state: initialState, now: Date.now() })
 */
export function decideReplicas(input: PolicyInput): Decision {
  const { bounds, settings, current, reading, state, now } = input;
  if (reading === undefined) return unreadable(input);

  const estimate = desiredTarget(reading, bounds, settings);
  const busy = estimate.backlog > 0 || (reading.arrivalsPerSecond ?? 0) > 0;
  const base = rememberReading(state, { busy, target: estimate.target }, now, settings);
  const context: DecisionContext = {
    input,
    target: estimate.target,
    why: explainTarget(reading, bounds, settings, estimate),
    base,
    busy,
  };

  if (estimate.target > current) {
    const verdict = gateScaleUp({
      current,
      estimate,
      busyReads: base.busyReads,
      minReplicas: bounds.minReplicas,
      settings,
    });
    return scaleUpDecision(verdict, context);
  }
  if (estimate.target === current) {
    return {
      replicas: current,
      kind: 'hold',
      rule: 'at-target',
      reason: `${context.why}; at target`,
      state: base,
      active: busy,
    };
  }
  const peak = base.peaks?.[0]?.replicas ?? estimate.target;
  const verdict = gateScaleDown({
    current,
    target: estimate.target,
    peak,
    emptyReads: base.emptyReads,
    quietSeconds: Math.floor((now - (base.lastActiveAt ?? now)) / 1000),
    emptySeconds: Math.floor((now - (base.emptySince ?? now)) / 1000),
    cooldownSeconds: bounds.cooldownSeconds,
    settings,
  });
  return scaleDownDecision(verdict, peak, context);
}

/** What the decision texts and flags are made from, besides the verdict. */
interface DecisionContext {
  readonly input: PolicyInput;
  readonly target: number;
  /** How the target came about. */
  readonly why: string;
  /** The memory after this reading, before any scale time. */
  readonly base: ScalerState;
  readonly busy: boolean;
}

function unreadable({ bounds, settings, current, state, now }: PolicyInput): Decision {
  const { fallback } = bounds;
  if (fallback === undefined) {
    const replicas = Math.max(current, bounds.minReplicas);
    return {
      replicas,
      kind: replicas > current ? 'up' : 'hold',
      rule: 'unreadable',
      reason: `queue unreadable: holding ${replicas} (never scale down without a reading; no fallback-replicas declared)`,
      state: replicas > current ? { ...state, lastScaleAt: now } : state,
      active: false,
    };
  }
  const counted = isCounted(state, now, settings);
  const reads = Math.min((state.unreadableReads ?? 0) + (counted ? 1 : 0), fallback.afterReads);
  const due = reads >= fallback.afterReads;
  const replicas = Math.max(current, bounds.minReplicas, due ? fallback.replicas : 0);
  const remembered: ScalerState = {
    ...state,
    unreadableReads: reads,
    ...(counted ? { lastReadAt: now } : {}),
    ...(replicas > current ? { lastScaleAt: now } : {}),
  };
  const reason = due
    ? `queue unreadable for ${reads} readings: fallback floor ${fallback.replicas}, holding ${replicas} (never scale down without a reading)`
    : `queue unreadable (${reads} of ${fallback.afterReads} readings before the fallback floor ${fallback.replicas}): holding ${replicas}`;
  return {
    replicas,
    kind: replicas > current ? 'up' : 'hold',
    rule: due ? 'fallback' : 'unreadable',
    reason,
    state: remembered,
    // Read again soon while the floor is still to come and would add pods.
    active: !due && fallback.replicas > replicas,
  };
}

const percent = (tolerance: number): number => Math.round(tolerance * 100);

function scaleUpDecision(verdict: ScaleUpVerdict, { input, why, base }: DecisionContext): Decision {
  const { current, settings, now } = input;
  if (verdict.kind === 'awaiting-confirmation') {
    const reason = `${why}; waiting for ${settings.confirmReads} consistent readings before starting from zero`;
    return { replicas: current, kind: 'hold', rule: verdict.kind, reason, state: base, active: true };
  }
  if (verdict.kind === 'within-tolerance') {
    const reason = `${why}; within ${percent(settings.tolerance)} % of ${current}: hold`;
    return { replicas: current, kind: 'hold', rule: verdict.kind, reason, state: base, active: true };
  }
  const surge = verdict.surgeLimited ? ` (max surge ${settings.maxSurge})` : '';
  return {
    replicas: verdict.replicas,
    kind: 'up',
    rule: verdict.surgeLimited ? 'max-surge' : 'scale-up',
    reason: `${why}; scale up ${current} → ${verdict.replicas}${surge}`,
    state: { ...base, lastScaleAt: now },
    active: true,
  };
}

function scaleDownDecision(verdict: ScaleDownVerdict, peak: number, context: DecisionContext): Decision {
  const { input, why, base, busy, target } = context;
  const { current, settings, now } = input;
  switch (verdict.kind) {
    case 'held-by-peak': {
      const reason = `${why}; scale-down held: peak ${verdict.peak} within the last ${settings.scaleDownWindowSeconds} s`;
      return { replicas: current, kind: 'hold', rule: 'window-peak', reason, state: base, active: true };
    }
    case 'within-tolerance': {
      const reason = `${why}; ${verdict.stabilized} is within ${percent(settings.tolerance)} % of ${current}: hold`;
      // Pending only while a window peak above the target is still to expire.
      const active = busy || peak > target;
      return { replicas: current, kind: 'hold', rule: verdict.kind, reason, state: base, active };
    }
    case 'held-for-zero': {
      const reason = `${why}; hold${zeroNote(verdict.zero, input)}`;
      return {
        replicas: current,
        kind: 'hold',
        rule: zeroRule(verdict.zero),
        reason,
        state: base,
        active: true,
      };
    }
    case 'down': {
      const note = verdict.zero === undefined ? '' : zeroNote(verdict.zero, input);
      return {
        replicas: verdict.replicas,
        kind: 'down',
        rule: verdict.zero === undefined ? 'scale-down' : zeroRule(verdict.zero),
        reason: `${why}; scale down ${current} → ${verdict.replicas}${note}`,
        state: { ...base, lastScaleAt: now },
        active: busy || verdict.replicas > target,
      };
    }
  }
}

const zeroRule = (zero: ZeroVerdict): DecisionRule => `zero-${zero.kind}`;

function zeroNote(zero: ZeroVerdict, { settings, bounds }: PolicyInput): string {
  switch (zero.kind) {
    case 'unconfirmed':
      return `; zero after ${settings.confirmReads} consistent empty readings (have ${zero.emptyReads})`;
    case 'settling':
      return `; zero after ${settings.zeroSettleSeconds} s of empty readings (SQS counts settle; empty for ${zero.emptySeconds} s)`;
    case 'cooling-down':
      return `; zero after ${bounds.cooldownSeconds} s cooldown (quiet for ${zero.quietSeconds} s)`;
    case 'idle':
      return `; idle for ${zero.quietSeconds} s with ${zero.emptyReads} empty readings`;
  }
}
