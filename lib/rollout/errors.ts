/** Base class of the rollout's own errors; the message is what the pipeline shows. */
export class RolloutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RolloutError';
  }
}

/** The action's UserParameters (or its input) are wrong; reported as a ConfigurationError. */
export class ConfigurationError extends RolloutError {
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = 'ConfigurationError';
    this.field = field;
  }
}

/** Another pipeline execution holds the shop's Lease. */
export class LeaseBusyError extends RolloutError {
  readonly holder: string | undefined;

  constructor(namespace: string, holder: string | undefined) {
    super(
      `another rollout holds the lease of shop ${namespace} (holder ${holder ?? 'unknown'}); ` +
        'retry the stage once it has finished',
    );
    this.name = 'LeaseBusyError';
    this.holder = holder;
  }
}

/** The shop is not in a state the rollout can start from (missing target, blue/green off, …). */
export class PreflightError extends RolloutError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PreflightError';
  }
}

/** A web Deployment's smoke-check annotation is malformed; names the annotation. */
export class SmokePlanError extends PreflightError {
  readonly annotation: string;

  constructor(target: string, annotation: string, detail: string, options?: ErrorOptions) {
    super(`${target}: annotation ${annotation}: ${detail}`, options);
    this.name = 'SmokePlanError';
    this.annotation = annotation;
  }
}

/** The migration Job failed; carries the tail of its pod's log when it could be read. */
export class MigrationFailedError extends RolloutError {
  readonly job: string;
  readonly logTail: string | undefined;

  constructor(job: string, detail: string, logTail: string | undefined, options?: ErrorOptions) {
    super(
      `migration job ${job} failed: ${detail}${logTail === undefined ? '' : `\n--- log tail ---\n${logTail}`}`,
      options,
    );
    this.name = 'MigrationFailedError';
    this.job = job;
    this.logTail = logTail;
  }
}

/** A target's new pods fail (waiting reason, restarts) or it did not complete within the deadline. */
export class TargetFailedError extends RolloutError {
  readonly target: string;
  readonly pod: string | undefined;
  readonly reason: string;

  constructor(target: string, reason: string, pod?: string, options?: ErrorOptions) {
    super(`${target}: ${pod === undefined ? '' : `pod ${pod} `}${reason}`, options);
    this.name = 'TargetFailedError';
    this.target = target;
    this.pod = pod;
    this.reason = reason;
  }
}

/**
 * The new pods of a web Deployment are Ready but do not serve the shop: a smoke check through the
 * Service that selects only them failed. Names the request, what came back and the body's first bytes.
 */
export class SmokeCheckFailedError extends TargetFailedError {
  /** What was requested: `GET <path>`, as the shop would serve it. */
  readonly request: string;
  /** The backend's status, when one answered. */
  readonly status: number | undefined;

  constructor(target: string, request: string, status: number | undefined, reason: string) {
    super(target, `smoke check ${request} ${reason}`);
    this.name = 'SmokeCheckFailedError';
    this.request = request;
    this.status = status;
  }
}

/**
 * Someone else changed a target during the rollout; what they changed is kept (the rollback restores
 * only the containers still on the release's image).
 */
export class ExternalEditError extends RolloutError {
  readonly target: string;

  constructor(target: string, detail: string) {
    super(`${target} was changed by someone else during the rollout (${detail}); their change is kept`);
    this.name = 'ExternalEditError';
    this.target = target;
  }
}

/** Why a continuation token was refused. */
export type TokenRefusal = 'malformed' | 'tampered' | 'foreign' | 'replayed';

/**
 * A continuation token (or the event carrying it) is not one this rollout may resume from: not ours,
 * altered, issued for another pipeline, job, namespace or image, or an older one replayed.
 */
export class ContinuationRefusedError extends RolloutError {
  readonly refusal: TokenRefusal;

  constructor(refusal: TokenRefusal, detail: string, options?: ErrorOptions) {
    super(`continuation refused (${refusal}): ${detail}; nothing was changed`, options);
    this.name = 'ContinuationRefusedError';
    this.refusal = refusal;
  }
}

/**
 * The quiet migration window could not be held: cron Jobs or consumer pods still ran at its
 * deadline, or someone else resumed them during it. Names what ran; the migration did not start.
 */
export class QuietWindowError extends RolloutError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QuietWindowError';
  }
}
