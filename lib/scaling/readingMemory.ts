import type { Peak, PolicySettings, ScalerState } from './policy.ts';

/** What the memory needs to know about one reading. */
export interface ReadingFacts {
  /** Backlog, messages in flight or arrivals. */
  readonly busy: boolean;
  /** The target of this reading (it enters the scale-down window). */
  readonly target: number;
}

/**
 * Whether a reading advances the counters: readings closer than `readSpacingSeconds` to the last
 * counted one (overlapping invocations, a re-decision after a conflict) count once.
 */
export const isCounted = (state: ScalerState, now: number, settings: PolicySettings): boolean =>
  state.lastReadAt === undefined || now - state.lastReadAt >= settings.readSpacingSeconds * 1000;

/** Adds a target to the window's monotonic queue, dropping expired and dominated entries. */
export function addPeak(peaks: readonly Peak[], replicas: number, now: number, windowMs: number): Peak[] {
  const live = peaks.filter((p) => now - p.at < windowMs && p.replicas > replicas);
  return [...live, { replicas, at: now }];
}

/**
 * The consecutive empty and busy readings after this one. They stop at `confirmReads`: beyond that
 * they carry no information, and a state that stops changing is a state that need not be written again.
 */
export function countReads(
  state: ScalerState,
  busy: boolean,
  counted: boolean,
  confirmReads: number,
): Pick<ScalerState, 'emptyReads' | 'busyReads'> {
  const step = counted ? 1 : 0;
  if (busy) {
    // An uncounted busy reading still proves the queue busy once.
    return { emptyReads: 0, busyReads: Math.min(Math.max(state.busyReads + step, 1), confirmReads) };
  }
  return { emptyReads: Math.min(state.emptyReads + step, confirmReads), busyReads: 0 };
}

/**
 * The policy's memory after one reading: counters, last activity, the start of the current empty
 * run, the scale-down window and the read time; the last scale time is carried over (the decision sets it when it changes replicas).
 */
export function rememberReading(
  state: ScalerState,
  facts: ReadingFacts,
  now: number,
  settings: PolicySettings,
): ScalerState {
  const counted = isCounted(state, now, settings);
  const lastReadAt = counted ? now : state.lastReadAt;
  return {
    ...countReads(state, facts.busy, counted, settings.confirmReads),
    lastActiveAt: facts.busy ? now : (state.lastActiveAt ?? now),
    // A state written before emptySince existed starts its empty run now (the cautious reading).
    ...(facts.busy ? {} : { emptySince: state.emptySince ?? now }),
    peaks: addPeak(state.peaks ?? [], facts.target, now, settings.scaleDownWindowSeconds * 1000),
    ...(lastReadAt === undefined ? {} : { lastReadAt }),
    ...(state.lastScaleAt === undefined ? {} : { lastScaleAt: state.lastScaleAt }),
  };
}
