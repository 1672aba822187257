import type { TargetEstimate } from './desiredTarget.ts';
import type { PolicySettings } from './policy.ts';

/** Whether, and how far, to scale up towards a target above the current replicas. */
export type ScaleUpVerdict =
  /** From zero on a backlog smaller than one pod's share: wait for a consistent second reading. */
  | { readonly kind: 'awaiting-confirmation' }
  /** The rise is within the tolerance and nothing requires it. */
  | { readonly kind: 'within-tolerance' }
  /** Scale up; `surgeLimited` when maxSurge kept it below the target. */
  | { readonly kind: 'up'; readonly replicas: number; readonly surgeLimited: boolean };

export interface ScaleUpInput {
  /** spec.replicas now, below `estimate.target`. */
  readonly current: number;
  readonly estimate: TargetEstimate;
  /** Consecutive busy readings, this one included. */
  readonly busyReads: number;
  readonly minReplicas: number;
  readonly settings: Pick<PolicySettings, 'confirmReads' | 'tolerance' | 'maxSurge'>;
}

/**
 * The scale-up gate. Up goes straight to the target (at most `maxSurge` more when configured).
 * From zero, a backlog smaller than one pod's share waits for `confirmReads` consistent readings:
 * SQS's approximate counts lag a delete, so a single reading may show messages already gone.
 * A rise within `tolerance` of the current replicas is ignored unless min, the arrival-rate floor
 * or a message in flight requires it.
 *
 * @example gateScaleUp({ current: 0, estimate: desiredTarget(reading, bounds, settings), busyReads: 1, minReplicas: 0, settings })
 */
export function gateScaleUp(input: ScaleUpInput): ScaleUpVerdict {
  const { current, estimate, settings } = input;
  if (current === 0 && isSmallStart(estimate) && input.busyReads < settings.confirmReads) {
    return { kind: 'awaiting-confirmation' };
  }
  const required = Math.max(input.minReplicas, estimate.byArrivals, estimate.byInFlight);
  if (current > 0 && current >= required && estimate.target <= current * (1 + settings.tolerance)) {
    return { kind: 'within-tolerance' };
  }
  const replicas =
    settings.maxSurge === undefined
      ? estimate.target
      : Math.min(estimate.target, current + settings.maxSurge);
  return { kind: 'up', replicas, surgeLimited: replicas < estimate.target };
}

/** At most one pod's share of backlog (and of the wait SLO's pods), no arrival floor and nothing in flight. */
const isSmallStart = (estimate: TargetEstimate): boolean =>
  estimate.byBacklog <= 1 && estimate.bySlo <= 1 && estimate.byArrivals === 0 && estimate.byInFlight === 0;
