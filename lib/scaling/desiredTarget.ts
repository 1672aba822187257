import type { PolicySettings, QueueReading } from './policy.ts';
import type { ScalingBounds } from './target.ts';
import { waitSloReplicas } from './waitSlo.ts';

/** The replicas one reading asks for, term by term, so a decision can say which term drove it. */
export interface TargetEstimate {
  /** visible + in flight (+ delayed when counted), of the whole queue. */
  readonly backlog: number;
  /** The fraction of backlog and arrivals this Deployment takes (1 alone on its queue). */
  readonly share: number;
  /** ceil(backlog × share / messagesPerPod). */
  readonly byBacklog: number;
  /** The arrival-rate (Little's law) floor; 0 without secondsPerMessage. */
  readonly byArrivals: number;
  /** 1 while a message is in flight: never stop a consumer mid-message. */
  readonly byInFlight: number;
  /** Pods to drain backlog and arrivals within the `max-wait-seconds` SLO; 0 without one. */
  readonly bySlo: number;
  /** Seconds the SLO left to drain the backlog in; undefined without an SLO. */
  readonly sloHorizonSeconds?: number;
  /** The largest term, before min/max. */
  readonly raw: number;
  /** `raw` clamped to [minReplicas, maxReplicas]. */
  readonly target: number;
}

const clamp = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, n));

/**
 * The arrival-rate floor: arrivals/s × seconds per message busy consumers at `floorUtilization` —
 * but never more than the messages of the measured minute (one 10-minute message is not a stream
 * needing 10 pods). The epsilon keeps floating-point noise just above a whole number from adding a pod.
 */
export function arrivalFloor(
  arrivalsPerSecond: number,
  secondsPerMessage: number | undefined,
  floorUtilization: number,
): number {
  if (secondsPerMessage === undefined || arrivalsPerSecond <= 0) return 0;
  return Math.min(
    Math.ceil((arrivalsPerSecond * secondsPerMessage) / floorUtilization - 1e-9),
    Math.ceil(arrivalsPerSecond * 60 - 1e-9),
  );
}

/**
 * The target of one reading: clamp(max(ceil(backlog × share / messagesPerPod), arrival floor of
 * arrivals × share, 1 if anything is in flight, the `max-wait-seconds` SLO's pods), min, max). Every Deployment of a shared queue keeps
 * a pod for messages in flight: SQS cannot say which Deployment holds them.
 *
 * @example desiredTarget({ visible: 45, inFlight: 0, delayed: 0 }, bounds, defaultPolicySettings).target // 3 at 20 per pod
 */
export function desiredTarget(
  reading: QueueReading,
  bounds: ScalingBounds,
  settings: PolicySettings,
): TargetEstimate {
  const backlog = reading.visible + reading.inFlight + (settings.includeDelayed ? reading.delayed : 0);
  const share = reading.share ?? 1;
  // Relative, so a share's floating-point noise just above a whole number adds no pod while the
  // smallest real share (one message of a billion per pod) still gets one.
  const byBacklog = Math.ceil(((backlog * share) / bounds.messagesPerPod) * (1 - 1e-12));
  const byArrivals = arrivalFloor(
    (reading.arrivalsPerSecond ?? 0) * share,
    bounds.secondsPerMessage,
    settings.floorUtilization,
  );
  const byInFlight = reading.inFlight > 0 ? 1 : 0;
  const slo = sloTerm(reading, backlog * share, bounds);
  const raw = Math.max(byBacklog, byArrivals, byInFlight, slo?.replicas ?? 0);
  return {
    backlog,
    share,
    byBacklog,
    byArrivals,
    byInFlight,
    bySlo: slo?.replicas ?? 0,
    ...(slo === undefined ? {} : { sloHorizonSeconds: slo.horizonSeconds }),
    raw,
    target: clamp(raw, bounds.minReplicas, bounds.maxReplicas),
  };
}

/** The `max-wait-seconds` term, when the Deployment declares the SLO and a processing time. */
function sloTerm(reading: QueueReading, sharedBacklog: number, bounds: ScalingBounds) {
  if (bounds.maxWaitSeconds === undefined || bounds.secondsPerMessage === undefined) return undefined;
  return waitSloReplicas({
    backlog: sharedBacklog,
    arrivalsPerSecond: (reading.arrivalsPerSecond ?? 0) * (reading.share ?? 1),
    secondsPerMessage: bounds.secondsPerMessage,
    maxWaitSeconds: bounds.maxWaitSeconds,
    oldestAgeSeconds: reading.oldestAgeSeconds ?? 0,
  });
}

/** How the target came about, for the decision's reason (a Deployment annotation people read). */
export function explainTarget(
  reading: QueueReading,
  bounds: ScalingBounds,
  settings: PolicySettings,
  estimate: TargetEstimate,
): string {
  const { backlog, share, byBacklog, byArrivals, raw, target } = estimate;
  const parts = [`visible ${reading.visible}`, `in flight ${reading.inFlight}`];
  if (settings.includeDelayed) parts.push(`delayed ${reading.delayed}`);
  const shared = share === 1 ? '' : ` × share ${round(share)}`;
  let text = `backlog ${backlog} (${parts.join(', ')})${shared} / ${bounds.messagesPerPod} per pod → ${byBacklog}`;
  if (byArrivals > 0) {
    text += `; arrivals ${round((reading.arrivalsPerSecond ?? 0) * share)}/s × ${bounds.secondsPerMessage} s → floor ${byArrivals}`;
  }
  if (estimate.sloHorizonSeconds !== undefined && estimate.bySlo > 0) {
    text += `; max wait ${bounds.maxWaitSeconds} s (oldest ${Math.round(reading.oldestAgeSeconds ?? 0)} s): drain in ${Math.round(estimate.sloHorizonSeconds)} s → ${estimate.bySlo}`;
  }
  if (reading.inFlight > 0 && byBacklog === 0) text += '; in flight → at least 1';
  if (target !== raw) text += `; clamped to ${target} (min ${bounds.minReplicas}, max ${bounds.maxReplicas})`;
  return text;
}

const round = (n: number): string => (Math.round(n * 100) / 100).toString();
