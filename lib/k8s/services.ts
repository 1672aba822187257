import { ApiException, type V1Service } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient, ProxiedResponse } from './clusterClient.ts';
import type { K8sOperation } from './errors.ts';
import type { ObjectRef } from './objectRef.ts';

const op = (verb: string, ref: ObjectRef, idempotent: boolean, subresource = ''): K8sOperation => ({
  verb,
  resource: `services${subresource}`,
  namespace: ref.namespace,
  name: ref.name,
  idempotent,
});

/** Creates a Service. Throws AlreadyExistsError when one of that name exists. */
export function createService(
  cluster: ClusterClient,
  namespace: string,
  service: V1Service,
): Promise<V1Service> {
  const ref = { namespace, name: service.metadata?.name ?? '' };
  return callK8s(cluster.calls, op('create', ref, false), (options) =>
    cluster.createService(namespace, service, options),
  );
}

/** Deletes a Service. Throws NotFoundError when there is none of that name. */
export function deleteService(cluster: ClusterClient, ref: ObjectRef): Promise<void> {
  return callK8s(cluster.calls, op('delete', ref, true), (options) => cluster.deleteService(ref, options));
}

/**
 * Whether a response is the apiserver's own `Status` (it refused the request, or reached no backend)
 * rather than the backend's answer. A web shop never answers with a Kubernetes Status object.
 */
export function isApiserverStatus(response: ProxiedResponse): boolean {
  if (response.status < 400 || !(response.contentType ?? '').startsWith('application/json')) return false;
  try {
    const body: unknown = JSON.parse(response.body);
    return (
      typeof body === 'object' &&
      body !== null &&
      (body as Record<string, unknown>).kind === 'Status' &&
      (body as Record<string, unknown>).apiVersion === 'v1'
    );
  } catch {
    // Not JSON at all: the backend's own error page.
    return false;
  }
}

/**
 * One GET through the apiserver's service proxy, tried once (the caller decides about retries): the
 * backend's answer whatever its status. The apiserver's own refusals and failures (403 by RBAC or
 * admission, 503 "no endpoints available", 502 dial errors, 401) are thrown as typed K8sErrors
 * naming `services/proxy`, after one token refresh on 401 as every call does.
 *
 * @example await getThroughServiceProxy(cluster, { namespace: 'shop-a', name: 'm2-http-smoke' }, 'http', '/')
 */
export function getThroughServiceProxy(
  cluster: ClusterClient,
  ref: ObjectRef,
  port: string,
  path: string,
): Promise<ProxiedResponse> {
  const settings = { ...cluster.calls, retry: { ...cluster.calls.retry, maxAttempts: 1 } };
  const proxyRef = { namespace: ref.namespace, name: `${ref.name}:${port}` };
  return callK8s(settings, op('get', proxyRef, true, '/proxy'), async (options) => {
    const response = await cluster.proxyServiceGet(ref, port, path, options);
    if (isApiserverStatus(response)) {
      throw new ApiException(response.status, 'service proxy', response.body, {
        ...(response.contentType === undefined ? {} : { 'content-type': response.contentType }),
      });
    }
    return response;
  });
}
