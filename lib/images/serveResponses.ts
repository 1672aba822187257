import {
  ImageRejectedError,
  type ImageRequestError,
  type RefusalStatus,
  type RejectionReason,
} from './errors.ts';
import { immutableCacheControl } from './variantPipeline.ts';

/** An HTTP answer, independent of the Lambda event shape. Header names are lowercase. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | string | undefined;
}

// Every answer may differ by Accept (the format is negotiated), so caches must key on it.
const common = { vary: 'Accept', 'x-content-type-options': 'nosniff' } as const;

/** 200 with the image; immutable because a variant's key changes whenever its content could. */
export const imageResponse = (body: Buffer, contentType: string, etag: string): HttpResponse => ({
  status: 200,
  headers: { ...common, 'content-type': contentType, 'cache-control': immutableCacheControl, etag },
  body,
});

export const notModified = (etag: string): HttpResponse => ({
  status: 304,
  headers: { ...common, 'cache-control': immutableCacheControl, etag },
});

/**
 * 302 for a variant too large for a synchronous Lambda response: it is in S3 now, so the next
 * request (CloudFront's origin group tries S3 first) is served from there. Not cached itself.
 */
export const redirect = (location: string): HttpResponse => ({
  status: 302,
  headers: { ...common, location, 'cache-control': 'no-store' },
});

/** A refusal: plain short message, short shared-cache TTL so a fixed original or config shows up soon. */
const refusal = (status: RefusalStatus, message: string, maxAgeSeconds: number): HttpResponse => ({
  status,
  headers: {
    ...common,
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': `public, max-age=${maxAgeSeconds}`,
    ...(status === 405 ? { allow: 'GET, HEAD' } : {}),
  },
  body: `${message}\n`,
});

/** 500: our own fault; never cached, and never says more than that. */
export const serverError = (): HttpResponse => ({
  status: 500,
  headers: { ...common, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  body: 'internal error\n',
});

const rejectionStatus: Readonly<Record<RejectionReason, { status: RefusalStatus; message: string }>> = {
  empty: { status: 415, message: 'the original is empty' },
  'unsupported-format': { status: 415, message: 'the original is not in a supported image format' },
  'svg-not-allowed': { status: 415, message: 'SVG originals are not served' },
  'format-mismatch': { status: 415, message: 'the original is not what its header says' },
  corrupt: { status: 415, message: 'the original cannot be decoded' },
  'too-large': { status: 413, message: 'the original exceeds the size limit' },
  'too-many-pixels': { status: 413, message: 'the original exceeds the pixel limit' },
  'too-many-frames': { status: 413, message: 'the original has too many frames' },
};

/** The status and client-safe message of a refused original (the detailed reason goes to the log). */
function rejectionOf(error: ImageRejectedError): { status: RefusalStatus; message: string } {
  return rejectionStatus[error.reason];
}

/** Maps a refusal error of either kind to its response. */
export function refusalOf(
  error: ImageRequestError | ImageRejectedError,
  maxAgeSeconds: number,
): HttpResponse {
  if (error instanceof ImageRejectedError) {
    const { status, message } = rejectionOf(error);
    return refusal(status, message, maxAgeSeconds);
  }
  return refusal(error.status, error.message, maxAgeSeconds);
}
