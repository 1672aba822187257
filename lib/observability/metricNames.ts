/**
 * Every CloudWatch metric the functions emit (namespace {@link metricNamespace}, EMF through
 * Powertools Metrics). The dashboard and alarms in serverless.yml refer to these names; a packaging
 * test checks that each one is on the dashboard, so rename here and there together.
 */
export const metricNamespace = 'M2EksPipeline';

export const metricNames = {
  imageVariants: {
    /** Count; variants written for one original. */
    generated: 'VariantsGenerated',
    /** Bytes written for one original's variants. */
    bytes: 'VariantBytes',
    /** Bytes of the originals the variants were made from (for "bytes saved"). */
    originalBytes: 'OriginalBytes',
    generationTime: 'VariantGenerationTime',
    /** Count, dimension `reason` (unsupported-format, too-large, corrupt, empty, malformed-record …). */
    rejected: 'VariantsRejected',
    deleted: 'VariantsDeleted',
    /** Count; records that failed for a transient reason (the invocation is retried). */
    failed: 'RecordsFailed',
  },
  imageServe: {
    hit: 'ImageServeHit',
    miss: 'ImageServeMiss',
    time: 'ImageServeTime',
    /** Count, dimension `status` (400, 403, 404, 405, 413, 415). */
    refused: 'ImageServeRefused',
    failed: 'ImageServeFailed',
  },
  consumerScaler: {
    /** Count, dimension `direction` (up, down). */
    scaleEvents: 'ScaleEvents',
    /** Count (replicas), dimensions `namespace`, `deployment`: what the policy wants. */
    desiredReplicas: 'DesiredReplicas',
    /** Count (replicas), dimensions `namespace`, `deployment`: Ready pods at decision time. */
    readyReplicas: 'ReadyReplicas',
    /** Count (messages), dimensions `namespace`, `deployment`: visible + in flight. */
    queueBacklog: 'QueueBacklog',
    writeConflicts: 'WriteConflicts',
    /** Count, dimension `reason`. */
    queueReadErrors: 'QueueReadErrors',
    /** Count, dimension `reason`. */
    targetErrors: 'TargetErrors',
    /** Count, dimension `reason`. */
    targetsSkipped: 'TargetsSkipped',
  },
  rollout: {
    /** Milliseconds from the release's first job to its verdict, dimension `outcome` (succeeded, rolled-back, failed). */
    duration: 'RolloutDuration',
    succeeded: 'RolloutsSucceeded',
    rolledBack: 'Rollbacks',
    /** Count; releases that failed without a rollback (refused, migration failed, bad parameters). */
    failed: 'RolloutsFailed',
    /** Count; invocations that handed over with a continuation token. */
    continuations: 'RolloutContinuations',
  },
} as const;
