import type { PolicySettings } from './policy.ts';

/** Whether an idle target may go from one pod to none. */
export type ZeroVerdict =
  /** Fewer than `confirmReads` consistent empty readings: keep one pod. */
  | { readonly kind: 'unconfirmed'; readonly emptyReads: number }
  /** Read empty for less than the settle window (SQS's counts may still lag): keep one pod. */
  | { readonly kind: 'settling'; readonly emptySeconds: number }
  /** Quiet for less than the target's cooldown: keep one pod. */
  | { readonly kind: 'cooling-down'; readonly quietSeconds: number }
  /** Proven idle: zero. */
  | { readonly kind: 'idle'; readonly quietSeconds: number; readonly emptyReads: number };

export interface ZeroInput {
  readonly emptyReads: number;
  /** Whole seconds since the queue last had a backlog, messages in flight or arrivals. */
  readonly quietSeconds: number;
  /** Whole seconds since the first of the current run of empty readings. */
  readonly emptySeconds: number;
  readonly confirmReads: number;
  readonly zeroSettleSeconds: number;
  readonly cooldownSeconds: number;
}

/**
 * The scale-to-zero gate: zero only after `confirmReads` consistent empty readings spanning
 * `zeroSettleSeconds`, and the cooldown.
 */
export function gateScaleToZero(input: ZeroInput): ZeroVerdict {
  if (input.emptyReads < input.confirmReads) return { kind: 'unconfirmed', emptyReads: input.emptyReads };
  if (input.emptySeconds < input.zeroSettleSeconds) {
    return { kind: 'settling', emptySeconds: input.emptySeconds };
  }
  if (input.quietSeconds < input.cooldownSeconds) {
    return { kind: 'cooling-down', quietSeconds: input.quietSeconds };
  }
  return { kind: 'idle', quietSeconds: input.quietSeconds, emptyReads: input.emptyReads };
}

/** Whether, and how far, to scale down towards a target below the current replicas. */
export type ScaleDownVerdict =
  /** A higher target within the scale-down window keeps the current replicas. */
  | { readonly kind: 'held-by-peak'; readonly peak: number }
  /** The window allows `stabilized`, but that is within the tolerance of the current replicas. */
  | { readonly kind: 'within-tolerance'; readonly stabilized: number }
  /** Down to `replicas`; `zero` says why that is 0 or 1 when the target is zero. */
  | { readonly kind: 'down'; readonly replicas: number; readonly zero?: ZeroVerdict }
  /** The target is zero, the zero gate keeps one pod, and one pod is what runs. */
  | { readonly kind: 'held-for-zero'; readonly zero: ZeroVerdict };

export interface ScaleDownInput {
  /** spec.replicas now, above `target`. */
  readonly current: number;
  readonly target: number;
  /** The highest target within the scale-down window. */
  readonly peak: number;
  readonly emptyReads: number;
  readonly quietSeconds: number;
  readonly emptySeconds: number;
  readonly cooldownSeconds: number;
  readonly settings: Pick<PolicySettings, 'confirmReads' | 'tolerance' | 'zeroSettleSeconds'>;
}

/**
 * The scale-down gate: never below the highest target of the window (hysteresis), not for a fall
 * within `tolerance`, and to zero only through the zero gate.
 *
 * @example gateScaleDown({ current: 8, target: 1, peak: 8, emptyReads: 0, quietSeconds: 0, emptySeconds: 0, cooldownSeconds: 300, settings }) // held-by-peak
 */
export function gateScaleDown(input: ScaleDownInput): ScaleDownVerdict {
  const { current, settings } = input;
  const stabilized = Math.max(input.target, input.peak);
  if (stabilized >= current) return { kind: 'held-by-peak', peak: input.peak };
  if (stabilized > 0 && stabilized >= current * (1 - settings.tolerance)) {
    return { kind: 'within-tolerance', stabilized };
  }
  if (stabilized > 0) return { kind: 'down', replicas: stabilized };
  const zero = gateScaleToZero({
    emptyReads: input.emptyReads,
    quietSeconds: input.quietSeconds,
    emptySeconds: input.emptySeconds,
    confirmReads: settings.confirmReads,
    zeroSettleSeconds: settings.zeroSettleSeconds,
    cooldownSeconds: input.cooldownSeconds,
  });
  const replicas = zero.kind === 'idle' ? 0 : 1;
  return replicas >= current ? { kind: 'held-for-zero', zero } : { kind: 'down', replicas, zero };
}
