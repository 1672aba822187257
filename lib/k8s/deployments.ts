import type { V1Deployment } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient, JsonPatchOperation } from './clusterClient.ts';
import type { K8sOperation } from './errors.ts';
import { listAll } from './listAll.ts';
import type { ObjectRef } from './objectRef.ts';

const resource = 'deployments.apps';
const op = (verb: string, ref?: Partial<ObjectRef>, idempotent = true): K8sOperation => ({
  verb,
  resource,
  ...(ref?.namespace === undefined ? {} : { namespace: ref.namespace }),
  ...(ref?.name === undefined ? {} : { name: ref.name }),
  idempotent,
});

/**
 * Lists Deployments in all namespaces that match a label selector, following pagination.
 *
 * @example await listDeploymentsByLabel(cluster, 'm2.example.com/scaler=sqs')
 */
export function listDeploymentsByLabel(
  cluster: ClusterClient,
  labelSelector: string,
): Promise<V1Deployment[]> {
  return listAll(cluster, 'deployments', { labelSelector, limit: 200 }, op('list'));
}

/** Lists the Deployments of one namespace that match a label selector, following pagination. */
export function listNamespacedDeployments(
  cluster: ClusterClient,
  namespace: string,
  labelSelector: string,
): Promise<V1Deployment[]> {
  return listAll(cluster, 'deployments', { namespace, labelSelector, limit: 200 }, op('list', { namespace }));
}

/** Reads one Deployment. Throws NotFoundError when it does not exist. */
export function readDeployment(cluster: ClusterClient, ref: ObjectRef): Promise<V1Deployment> {
  return callK8s(cluster.calls, op('get', ref), (options) => cluster.getDeployment(ref, options));
}

/** Creates a Deployment. Throws AlreadyExistsError when one of that name exists. */
export function createDeployment(
  cluster: ClusterClient,
  namespace: string,
  deployment: V1Deployment,
): Promise<V1Deployment> {
  const ref = { namespace, name: deployment.metadata?.name ?? '' };
  return callK8s(cluster.calls, op('create', ref, false), (options) =>
    cluster.createDeployment(namespace, deployment, options),
  );
}

/** Deletes a Deployment (its pods go after it). Throws NotFoundError when there is none of that name. */
export function deleteDeployment(cluster: ClusterClient, ref: ObjectRef): Promise<void> {
  return callK8s(cluster.calls, op('delete', ref), (options) => cluster.deleteDeployment(ref, options));
}

/** How a patch document is interpreted by the apiserver. */
export type PatchKind = 'merge' | 'strategic';

/**
 * Patches a Deployment (strategic merge by default, so containers merge by name). Put
 * `metadata.resourceVersion` in the patch to make it conditional: a stale one throws ConflictError.
 */
export function patchDeployment(
  cluster: ClusterClient,
  ref: ObjectRef,
  patch: object,
  kind: PatchKind = 'strategic',
): Promise<V1Deployment> {
  return callK8s(cluster.calls, op('patch', ref), (options) =>
    cluster.patchDeployment(ref, { type: kind, document: patch }, options),
  );
}

/**
 * Applies an RFC 6902 JSON patch to a Deployment. A failed `test` operation is answered 422
 * (InvalidError); an `add` of `/metadata/resourceVersion` makes the patch conditional (ConflictError).
 */
export function jsonPatchDeployment(
  cluster: ClusterClient,
  ref: ObjectRef,
  operations: readonly JsonPatchOperation[],
): Promise<V1Deployment> {
  return callK8s(cluster.calls, op('patch', ref), (options) =>
    cluster.patchDeployment(ref, { type: 'json', operations }, options),
  );
}
