/**
 * Per-pod throughput learned from what the pods actually delete, against the declared
 * `seconds-per-message`: a declaration goes stale as the catalogue, the extensions and the database
 * change, and the arrival floor and the wait SLO are only as good as it.
 */

export interface ThroughputEvidence {
  /** The declared `seconds-per-message`. */
  readonly declaredSecondsPerMessage: number;
  /** NumberOfMessagesDeleted of the latest CloudWatch minute, per second; undefined without a datapoint. */
  readonly deletedPerSecond: number | undefined;
  /** Ready pods of the Deployment now. */
  readonly readyPods: number;
  /** Messages waiting now: pods with work waiting delete as fast as they can, so deletes measure capacity. */
  readonly visible: number;
  /** The Deployment's share of its queue; deletes are per queue, so only a sole consumer learns. */
  readonly share: number;
  /** Last replica change (ms); the pods must have been these pods during the measured minute. */
  readonly lastScaleAt: number | undefined;
  readonly now: number;
}

/** Which seconds-per-message the target is sized with, and why. */
export type ThroughputEstimate =
  | { readonly kind: 'declared'; readonly secondsPerMessage: number }
  | {
      readonly kind: 'learned';
      readonly secondsPerMessage: number;
      /** ready pods ÷ deletes per second, before the bound. */
      readonly observed: number;
      readonly declared: number;
    };

/** Observed and declared within this factor of each other: the declaration stands. */
const agreementFactor = 2;
/** The learned value never strays further than this factor from the declared one. */
const boundFactor = 4;
/**
 * CloudWatch's latest SQS minute is up to ~5 minutes old (the signal reader looks back 6): the pods
 * must not have changed for this long, or the deletes were someone else's pods'.
 */
const stableForMs = 6 * 60_000;

/**
 * The seconds per message to size with: the declared value, unless the pods' own deletes disagree by
 * more than 2× — then the observed ready pods ÷ deletes per second, bounded to [declared / 4,
 * declared × 4]. Learned only from evidence that measures capacity: a sole consumer of its queue,
 * with messages still waiting (so the pods were busy rather than starved), ready pods, and no
 * replica change within the last 6 minutes.
 *
 * @example secondsPerMessageFrom({ declaredSecondsPerMessage: 1, deletedPerSecond: 1, readyPods: 5, visible: 900, share: 1, lastScaleAt: 0, now: 600_000 }) // learned 4 (observed 5, bounded)
 */
export function secondsPerMessageFrom(evidence: ThroughputEvidence): ThroughputEstimate {
  const declared = evidence.declaredSecondsPerMessage;
  const keep: ThroughputEstimate = { kind: 'declared', secondsPerMessage: declared };
  const { deletedPerSecond, readyPods } = evidence;
  if (deletedPerSecond === undefined || deletedPerSecond <= 0 || readyPods <= 0) return keep;
  if (evidence.share < 1 || evidence.visible < readyPods) return keep;
  if (evidence.lastScaleAt === undefined || evidence.now - evidence.lastScaleAt < stableForMs) return keep;
  const observed = readyPods / deletedPerSecond;
  if (observed <= declared * agreementFactor && observed >= declared / agreementFactor) return keep;
  const secondsPerMessage = Math.min(declared * boundFactor, Math.max(declared / boundFactor, observed));
  return { kind: 'learned', secondsPerMessage, observed, declared };
}
