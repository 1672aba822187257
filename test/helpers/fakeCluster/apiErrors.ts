import { ApiException } from '@kubernetes/client-node';

const reasons: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/**
 * What @kubernetes/client-node throws for an apiserver error: an ApiException with the Status
 * object as body (and Retry-After when given), so lib/k8s maps it exactly as it maps the real ones.
 */
export function apiError(
  code: number,
  reason: string | undefined,
  message: string,
  retryAfterSeconds?: number,
): ApiException<unknown> {
  return new ApiException(
    code,
    `HTTP-Code: ${code}`,
    { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: reason ?? reasons[code], message },
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
  );
}
