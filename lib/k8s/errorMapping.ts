import { ApiException } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import {
  AlreadyExistsError,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  InvalidError,
  K8sError,
  type K8sOperation,
  K8sTimeoutError,
  NotFoundError,
  ServerError,
  TooManyRequestsError,
  UnauthorizedError,
} from './errors.ts';

/** The fields of a Kubernetes `Status` object an error message needs. */
interface ApiStatus {
  readonly message?: string;
  readonly reason?: string;
}

/** Network error codes that mean the request never reached the apiserver. */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Network error codes of a connection that broke while the request was in flight. */
const brokenCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ECONNABORTED',
]);

function parseStatus(body: unknown): ApiStatus {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const record = value as Record<string, unknown>;
  return {
    message: typeof record.message === 'string' ? record.message : undefined,
    reason: typeof record.reason === 'string' ? record.reason : undefined,
  };
}

function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** The error code of a network failure, looking through `cause` chains (undici nests them). */
function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (notSentCodes.has(code) || brokenCodes.has(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const isAbort = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');

/** Whether a network failure happened before the request was sent (safe to repeat any call). */
export const requestNotSent = (error: ConnectionError): boolean => notSentCodes.has(error.reason ?? '');

/**
 * Translates whatever @kubernetes/client-node or the network threw into a typed K8sError that
 * names the verb and object. Errors that already are K8sErrors pass through unchanged.
 */
export function toK8sError(op: K8sOperation, error: unknown): K8sError {
  if (error instanceof K8sError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    const details = {
      status: error.code,
      reason: status.reason,
      retryAfterSeconds: retryAfter(error.headers),
      cause: error,
    };
    const message = status.message ?? `HTTP ${error.code}`;
    switch (error.code) {
      case 401:
        return new UnauthorizedError(op, status.message ?? 'Unauthorized', details);
      case 403:
        return new ForbiddenError(op, message, details);
      case 404:
        return new NotFoundError(op, message, details);
      case 409:
        return status.reason === 'AlreadyExists'
          ? new AlreadyExistsError(op, message, details)
          : new ConflictError(op, message, details);
      case 400:
      case 422:
        return new InvalidError(op, message, details);
      case 429:
        return new TooManyRequestsError(op, message, details);
      default:
        return error.code >= 500 ? new ServerError(op, message, details) : new K8sError(op, message, details);
    }
  }
  if (isAbort(error)) return new K8sTimeoutError(op, 'call timed out', { cause: error });
  const code = networkErrorCode(error);
  if (code !== undefined)
    return new ConnectionError(op, `connection failed (${code})`, { reason: code, cause: error });
  const detail = messageOf(error);
  return new K8sError(op, detail, { cause: error });
}
