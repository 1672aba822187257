/** The Kubernetes call an error belongs to: what was done to which object. */
export interface K8sOperation {
  /** API verb as RBAC names it: get, list, watch, create, update, patch, delete. */
  readonly verb: string;
  /** Resource as RBAC names it, with its group and subresource: `deployments.apps/scale`. */
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Safe to repeat after a timeout or reset (reads, preconditioned writes, patches, deletes). */
  readonly idempotent: boolean;
}

/** Details of a failed call, beyond the operation. */
export interface K8sErrorDetails {
  /** HTTP status, when the apiserver answered. */
  readonly status?: number;
  /** `reason` of the apiserver's Status object (Forbidden, Conflict, AlreadyExists, …). */
  readonly reason?: string;
  /** Seconds from Retry-After, on 429 and some 5xx. */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

const describe = (op: K8sOperation): string => {
  const object =
    op.name === undefined ? '' : ` ${op.namespace === undefined ? '' : `${op.namespace}/`}${op.name}`;
  const scope = op.name === undefined && op.namespace !== undefined ? ` in namespace ${op.namespace}` : '';
  return `${op.verb} ${op.resource}${object}${scope}`;
};

/** Base class of every error lib/k8s throws. */
export class KubernetesError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KubernetesError';
  }
}

/** The connection settings in the environment are missing or malformed; names the variable. */
export class ClusterSettingsError extends KubernetesError {
  readonly variable: string;

  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(`${variable} ${message}`, options);
    this.name = 'ClusterSettingsError';
    this.variable = variable;
  }
}

/** DescribeCluster did not give a usable endpoint (cluster not active, no endpoint or CA). */
export class ClusterLookupError extends KubernetesError {
  readonly clusterName: string;

  constructor(clusterName: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClusterLookupError';
    this.clusterName = clusterName;
  }
}

/** A label selector lib/k8s cannot render (an operator it does not know). */
export class InvalidSelectorError extends KubernetesError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidSelectorError';
  }
}

/** A failed API call; says which verb on which object failed. Base of the call errors below. */
export class K8sError extends KubernetesError {
  readonly verb: string;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly objectName: string | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(op: K8sOperation, detail: string, details: K8sErrorDetails = {}) {
    super(`${describe(op)}: ${detail}`, { cause: details.cause });
    this.name = 'K8sError';
    this.verb = op.verb;
    this.resource = op.resource;
    this.namespace = op.namespace;
    this.objectName = op.name;
    this.status = details.status;
    this.reason = details.reason;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** 401: the credentials (EKS token, client certificate) were not accepted. */
export class UnauthorizedError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'UnauthorizedError';
  }
}

/** 403: RBAC does not grant this verb on this resource to the caller. */
export class ForbiddenError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'ForbiddenError';
  }
}

/** 404: the object (or its namespace) does not exist. */
export class NotFoundError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'NotFoundError';
  }
}

/** 409: the object changed since it was read (resourceVersion precondition failed). */
export class ConflictError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'ConflictError';
  }
}

/** 409 AlreadyExists: a create found an object of that name. */
export class AlreadyExistsError extends ConflictError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'AlreadyExistsError';
  }
}

/** 422 (and 400): the apiserver rejected the object or patch as invalid. */
export class InvalidError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'InvalidError';
  }
}

/** 429 after all retries: the apiserver kept throttling. */
export class TooManyRequestsError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'TooManyRequestsError';
  }
}

/** 5xx after all retries. */
export class ServerError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'ServerError';
  }
}

/** The apiserver could not be reached or dropped the connection (after all retries). */
export class ConnectionError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'ConnectionError';
  }
}

/** The per-call timeout elapsed, or a wait (rollout, Job) passed its deadline. */
export class K8sTimeoutError extends K8sError {
  constructor(op: K8sOperation, detail: string, details?: K8sErrorDetails) {
    super(op, detail, details);
    this.name = 'K8sTimeoutError';
  }
}

/** A Lease is held by someone else, so this holder may not renew or release it. */
export class LeaseHeldError extends K8sError {
  readonly holder: string | undefined;

  constructor(op: K8sOperation, holder: string | undefined, details?: K8sErrorDetails) {
    super(op, `lease is held by ${holder ?? 'nobody'}`, details);
    this.name = 'LeaseHeldError';
    this.holder = holder;
  }
}
