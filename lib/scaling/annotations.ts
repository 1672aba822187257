/**
 * The keys the scaler reads from and writes to consumer Deployments. The declarative ones are
 * documented in k8s-manifests/README.md ("Consumers and the scaling annotations").
 */
const prefix = 'scaling.m2-eks-pipeline.io';

/** Label that marks a Deployment as a scaling target. */
export const targetLabel = `${prefix}/enabled`;
/** Label selector the scaler discovers its targets with, across all namespaces. */
export const targetSelector = `${targetLabel}=true`;

/** Declared by the shop's manifests. */
export const targetAnnotations = {
  queueUrl: `${prefix}/queue-url`,
  messagesPerPod: `${prefix}/messages-per-pod`,
  minReplicas: `${prefix}/min-replicas`,
  maxReplicas: `${prefix}/max-replicas`,
  cooldownSeconds: `${prefix}/cooldown-seconds`,
  secondsPerMessage: `${prefix}/seconds-per-message`,
  /** The wait SLO: seconds a message may wait at most (sized with seconds-per-message). */
  maxWaitSeconds: `${prefix}/max-wait-seconds`,
  /** Share of the namespace's consumer pod budget: higher is served first (default 0). */
  priority: `${prefix}/priority`,
  paused: `${prefix}/paused`,
  /** Replicas to hold at least once the queue has been unreadable `fallback-after-reads` times in a row. */
  fallbackReplicas: `${prefix}/fallback-replicas`,
  fallbackAfterReads: `${prefix}/fallback-after-reads`,
} as const;

/** Declared on a shop's namespace. */
export const namespaceAnnotations = {
  /** Consumer pods the shop's scaling targets may run together, divided by their priority. */
  consumerPodBudget: `${prefix}/consumer-pod-budget`,
} as const;

/**
 * Set by the rollout on a consumer Deployment for its quiet migration window, to the release id:
 * while it is there the scaler leaves the replicas where the rollout put them (and says so in an
 * Event). Under the rollout's own prefix, the only annotations its admission policy lets it write.
 */
export const pausedByRolloutAnnotation = 'rollout.m2-eks-pipeline.io/scaler-paused';

/** Written by the scaler: its memory between invocations (no database). */
export const stateAnnotations = {
  /** JSON: counters and timestamps the policy needs (see state.ts). */
  state: `${prefix}/state`,
  /** Human-readable reason of the last decision that changed replicas or state. */
  lastReason: `${prefix}/last-reason`,
  /** ISO time the queue was last seen non-empty or receiving messages. */
  lastActive: `${prefix}/last-active`,
  /** ISO time of the last replica change, and to what. */
  lastScale: `${prefix}/last-scale`,
} as const;
