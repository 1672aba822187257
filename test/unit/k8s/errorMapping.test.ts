import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { toK8sError } from '../../../lib/k8s/errorMapping.ts';
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
} from '../../../lib/k8s/errors.ts';

const op: K8sOperation = {
  verb: 'delete',
  resource: 'deployments.apps',
  namespace: 'shop-a',
  name: 'web',
  idempotent: true,
};

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('toK8sError', () => {
  it.each([
    [401, undefined, UnauthorizedError],
    [403, status(403, 'Forbidden', 'deployments.apps "web" is forbidden'), ForbiddenError],
    [404, status(404, 'NotFound', 'deployments.apps "web" not found'), NotFoundError],
    [409, status(409, 'Conflict', 'the object has been modified'), ConflictError],
    [409, status(409, 'AlreadyExists', 'deployments.apps "web" already exists'), AlreadyExistsError],
    [422, status(422, 'Invalid', 'spec.replicas: Invalid value: -1'), InvalidError],
    [400, status(400, 'BadRequest', 'bad patch'), InvalidError],
    [429, status(429, 'TooManyRequests', 'slow down'), TooManyRequestsError],
    [500, status(500, 'InternalError', 'etcd timeout'), ServerError],
    [503, 'upstream connect error', ServerError],
    [418, status(418, 'Teapot', 'no'), K8sError],
  ])('maps HTTP %i to the matching error class', (code, body, expected) => {
    // Act
    const error = toK8sError(op, new ApiException(code, 'Unknown API Status Code!', body, {}));

    // Assess
    expect(error).toBeInstanceOf(expected);
    expect(error.status).toBe(code);
    expect(error.verb).toBe('delete');
    expect(error.resource).toBe('deployments.apps');
  });

  it('names the verb, the resource and the object in the message', () => {
    // Prepare
    const body = status(
      403,
      'Forbidden',
      'deployments.apps "web" is forbidden: User "m2:readonly-test" cannot delete resource "deployments"',
    );

    // Act
    const error = toK8sError(op, new ApiException(403, 'Unknown API Status Code!', body, {}));

    // Assess
    expect(error.message).toBe(
      'delete deployments.apps shop-a/web: deployments.apps "web" is forbidden: User "m2:readonly-test" cannot delete resource "deployments"',
    );
    expect(error.namespace).toBe('shop-a');
    expect(error.objectName).toBe('web');
    expect(error.reason).toBe('Forbidden');
    expect(error.cause).toBeInstanceOf(ApiException);
  });

  it('reads Retry-After from a 429', () => {
    const error = toK8sError(
      op,
      new ApiException(429, 'x', status(429, 'TooManyRequests', 'wait'), { 'retry-after': '3' }),
    );
    expect(error.retryAfterSeconds).toBe(3);
  });

  it.each([
    [
      'ECONNREFUSED',
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      }),
    ],
    [
      'ECONNRESET',
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      }),
    ],
    [
      'UND_ERR_SOCKET',
      Object.assign(new TypeError('terminated'), {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      }),
    ],
  ])('maps a network failure (%s) to ConnectionError', (code, thrown) => {
    const error = toK8sError(op, thrown);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.reason).toBe(code);
  });

  it('maps an aborted (timed out) call to K8sTimeoutError', () => {
    const error = toK8sError(
      op,
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    );
    expect(error).toBeInstanceOf(K8sTimeoutError);
  });

  it('passes K8sErrors through unchanged', () => {
    const original = new NotFoundError(op, 'gone');
    expect(toK8sError(op, original)).toBe(original);
  });

  it('describes a namespaced list without an object name', () => {
    const error = toK8sError(
      { verb: 'list', resource: 'secrets', namespace: 'shop-a', idempotent: true },
      new Error('boom'),
    );
    expect(error.message).toBe('list secrets in namespace shop-a: boom');
  });
});
