/** Base class of the scaling package's errors. */
export class ScalingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScalingError';
  }
}

/**
 * A Deployment labelled as a scaling target carries a missing or malformed annotation. Only that
 * target is skipped; the others are still reconciled.
 */
export class TargetAnnotationError extends ScalingError {
  readonly namespace: string;
  readonly deployment: string;
  readonly annotation: string;
  /** What is wrong with the value, without the names (for the Deployment's Event). */
  readonly problem: string;

  constructor(namespace: string, deployment: string, annotation: string, problem: string) {
    super(`${namespace}/${deployment}: annotation ${annotation} ${problem}`);
    this.name = 'TargetAnnotationError';
    this.namespace = namespace;
    this.deployment = deployment;
    this.annotation = annotation;
    this.problem = problem;
  }
}

/** Why a queue's depth could not be read (the target is then held fail-static). */
export type QueueReadFailure = 'throttled' | 'denied' | 'not-found' | 'unavailable';

/** SQS GetQueueAttributes failed for one queue, or answered without the counts (`detail` says which). */
export class QueueReadError extends ScalingError {
  readonly queueUrl: string;
  readonly failure: QueueReadFailure;

  constructor(queueUrl: string, failure: QueueReadFailure, options?: ErrorOptions & { detail?: string }) {
    const detail = options?.detail === undefined ? '' : `: ${options.detail}`;
    super(`reading the depth of ${queueUrl} failed (${failure})${detail}`, options);
    this.name = 'QueueReadError';
    this.queueUrl = queueUrl;
    this.failure = failure;
  }
}

/** Discovering targets (listing Deployments) failed: nothing can be reconciled this pass. */
export class DiscoveryError extends ScalingError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DiscoveryError';
  }
}

/** Some targets could not be reconciled (their neighbours were); names them so the failure is actionable. */
export class ReconcileIncompleteError extends ScalingError {
  readonly failures: readonly {
    readonly namespace: string;
    readonly deployment: string;
    readonly error: string;
  }[];

  constructor(failures: ReconcileIncompleteError['failures']) {
    super(
      `${failures.length} scaling target(s) not reconciled: ${failures
        .map((f) => `${f.namespace}/${f.deployment} (${f.error})`)
        .join('; ')
        .slice(0, 2000)}`,
    );
    this.name = 'ReconcileIncompleteError';
    this.failures = failures;
  }
}

/** Gave up after this many lost races in a row (another writer keeps changing the Deployment). */
export class TooManyConflictsError extends ScalingError {
  readonly namespace: string;
  readonly deployment: string;
  readonly conflicts: number;

  constructor(target: { namespace: string; name: string }, conflicts: number, options?: ErrorOptions) {
    super(`${target.namespace}/${target.name}: ${conflicts} write conflicts in a row`, options);
    this.name = 'TooManyConflictsError';
    this.namespace = target.namespace;
    this.deployment = target.name;
    this.conflicts = conflicts;
  }
}

/**
 * The event is neither of the two EventBridge events consumerScaler is wired to: a wiring mistake,
 * so the invocation fails. The message names the event's detail-type, never its content.
 */
export class UnknownTriggerError extends ScalingError {
  /** The event's `detail-type`, when it has a string one. */
  readonly detailType: string | undefined;

  constructor(detailType: string | undefined) {
    super(`not a CloudWatch Alarm State Change or Scheduled Event (detail-type: ${detailType ?? 'none'})`);
    this.name = 'UnknownTriggerError';
    this.detailType = detailType;
  }
}

/**
 * A rollout paused the target (its quiet migration window) after this pass discovered it: the
 * fresh read before the write saw the annotation, so nothing was written. Not a failure.
 */
export class HeldByRolloutError extends ScalingError {
  readonly release: string;

  constructor(target: { namespace: string; name: string }, release: string) {
    super(`${target.namespace}/${target.name} is paused by rollout ${release}; not scaled`);
    this.name = 'HeldByRolloutError';
    this.release = release;
  }
}
