/**
 * The `max-wait-seconds` SLO: enough pods that the backlog, plus what arrives meanwhile, is drained
 * before its oldest message has waited longer than the merchant allows.
 */

/** The latest ApproximateAgeOfOldestMessage datapoint CloudWatch has for a queue. */
export interface OldestMessageAge {
  /** Maximum over the datapoint's minute, in seconds. */
  readonly seconds: number;
  /** ms since the epoch: the end of that minute (SQS publishes minutes late). */
  readonly at: number;
}

export interface WaitSloInput {
  /** visible + in flight (× the Deployment's share). */
  readonly backlog: number;
  /** Messages sent per second (× share); 0 when unknown. */
  readonly arrivalsPerSecond: number;
  /** Seconds one pod spends per message. */
  readonly secondsPerMessage: number;
  readonly maxWaitSeconds: number;
  /** The oldest message's age now, in seconds; 0 when CloudWatch has no datapoint. */
  readonly oldestAgeSeconds: number;
}

/** The SLO's term of the target and how it came about. */
export interface WaitSloEstimate {
  /** Seconds left to drain the backlog: what the oldest message may still wait, bounded below. */
  readonly horizonSeconds: number;
  /** ceil(secondsPerMessage × (backlog / horizon + arrivals/s)). */
  readonly replicas: number;
}

/**
 * Below this fraction of the SLO the horizon stops shrinking: once the oldest message is (nearly)
 * late, the scaler catches up within a tenth of the SLO instead of asking for a pod per message —
 * a breach already happened, and max-replicas bounds the rest.
 */
const catchUpFraction = 0.1;

/**
 * Pods so that backlog + arrivals over the horizon are done within it:
 * n × horizon / secondsPerMessage ≥ backlog + arrivals × horizon, i.e.
 * n = ⌈secondsPerMessage × (backlog / horizon + arrivals/s)⌉, horizon = max(maxWait − oldest age,
 * maxWait / 10, secondsPerMessage) — no pod finishes a message sooner than secondsPerMessage. No
 * utilization headroom: this is the exact rate the SLO needs; the arrival floor keeps its own.
 *
 * @example waitSloReplicas({ backlog: 900, arrivalsPerSecond: 2, secondsPerMessage: 1.5, maxWaitSeconds: 300, oldestAgeSeconds: 120 }).replicas // 11
 */
export function waitSloReplicas(input: WaitSloInput): WaitSloEstimate {
  const { backlog, arrivalsPerSecond, secondsPerMessage, maxWaitSeconds, oldestAgeSeconds } = input;
  const horizonSeconds = Math.max(
    maxWaitSeconds - oldestAgeSeconds,
    maxWaitSeconds * catchUpFraction,
    secondsPerMessage,
  );
  if (backlog <= 0 && arrivalsPerSecond <= 0) return { horizonSeconds, replicas: 0 };
  const rate = backlog / horizonSeconds + Math.max(0, arrivalsPerSecond);
  // The epsilon keeps floating-point noise just above a whole number from adding a pod.
  return { horizonSeconds, replicas: Math.ceil(secondsPerMessage * rate - 1e-9) };
}

/**
 * The oldest message's age now from CloudWatch's latest datapoint: the datapoint's age plus the time
 * since its minute ended — the message has kept waiting since, unless the queue has been emptied
 * (then nothing waits: 0). Never negative.
 *
 * @example oldestAgeNow({ seconds: 90, at: 0 }, 60_000, 5) // 150
 */
export function oldestAgeNow(age: OldestMessageAge | undefined, now: number, visible: number): number {
  if (age === undefined || visible <= 0) return 0;
  return Math.max(0, age.seconds + Math.max(0, now - age.at) / 1000);
}
