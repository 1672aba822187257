import type { RecordResult } from './processObjectEvents.ts';

/**
 * Why an original was refused. Rejections are permanent: retrying the same bytes cannot succeed,
 * so they are logged and counted, never retried.
 */
const rejectionReasons = [
  'empty',
  'too-large',
  'unsupported-format',
  'svg-not-allowed',
  'format-mismatch',
  'too-many-pixels',
  'too-many-frames',
  'corrupt',
] as const;
export type RejectionReason = (typeof rejectionReasons)[number];

/** Base class of the image package's errors. */
export class ImageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageError';
  }
}

/** The bytes are not an image this pipeline will process; `reason` says why. */
export class ImageRejectedError extends ImageError {
  readonly reason: RejectionReason;

  constructor(reason: RejectionReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageRejectedError';
    this.reason = reason;
  }
}

/** A storage call failed for a reason that may pass (throttling, 5xx, network): retry the record. */
export class TransientStorageError extends ImageError {
  readonly bucket: string;
  readonly key: string;

  constructor(message: string, context: { bucket: string; key: string }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientStorageError';
    this.bucket = context.bucket;
    this.key = context.key;
  }
}

/** HTTP statuses imageServe answers a refused request with. */
export type RefusalStatus = 400 | 403 | 404 | 405 | 413 | 415;

/**
 * An image request imageServe refuses: bad parameters (400), bad signature (403), missing original
 * (404), wrong method (405), over a limit (413), unusable source (415). `message` is short and safe
 * to show to the client; `reason` is a stable token for logs and metrics.
 */
export class ImageRequestError extends ImageError {
  readonly status: RefusalStatus;
  readonly reason: string;

  constructor(status: RefusalStatus, reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageRequestError';
    this.status = status;
    this.reason = reason;
  }
}

/**
 * The Lambda event is not the kind the function is wired to (an S3 notification, a function URL
 * request): a wiring mistake, not a bad image or request, so the invocation fails. The message
 * names the first problem and never quotes the event.
 */
export class InvalidEventError extends ImageError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidEventError';
  }
}

/**
 * A batch in which some records failed for reasons that may pass (storage errors); the platform
 * should retry it. The failed records' errors are the cause, in record order.
 */
export class VariantBatchError extends ImageError {
  readonly failedKeys: readonly string[];

  constructor(failed: readonly RecordResult[]) {
    super(`${failed.length} record(s) failed and will be retried: ${failed.map((r) => r.key).join(', ')}`, {
      cause: failed.map((r) => (r.status === 'failed' ? r.error : undefined)),
    });
    this.name = 'VariantBatchError';
    this.failedKeys = failed.map((r) => r.key);
  }
}
