import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { ConflictError, InvalidError, type K8sOperation } from './errors.ts';
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
export async function listDeploymentsByLabel(
  cluster: ClusterClient,
  labelSelector: string,
): Promise<V1Deployment[]> {
  const items: V1Deployment[] = [];
  let continueToken: string | undefined;
  do {
    const token = continueToken;
    const page = await callK8s(cluster.calls, op('list'), (options) =>
      cluster.apps.listDeploymentForAllNamespaces(
        { labelSelector, limit: 200, ...(token === undefined ? {} : { _continue: token }) },
        options,
      ),
    );
    items.push(...page.items);
    continueToken = page.metadata?._continue === '' ? undefined : page.metadata?._continue;
  } while (continueToken !== undefined);
  return items;
}

/** Reads one Deployment. Throws NotFoundError when it does not exist. */
export function readDeployment(cluster: ClusterClient, ref: ObjectRef): Promise<V1Deployment> {
  return callK8s(cluster.calls, op('get', ref), (options) =>
    cluster.apps.readNamespacedDeployment(ref, options),
  );
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
  const contentType = kind === 'merge' ? PatchStrategy.MergePatch : PatchStrategy.StrategicMergePatch;
  return callK8s(cluster.calls, op('patch', ref), (options) =>
    cluster.apps.patchNamespacedDeployment(
      { ...ref, body: patch },
      setHeaderOptions('Content-Type', contentType, options),
    ),
  );
}

/**
 * Sets container images by container name (init containers included), checking against the
 * Deployment as read and writing with its resourceVersion; on a conflict it re-reads and re-applies.
 * Unknown container names throw InvalidError instead of silently adding a container.
 *
 * @example await patchContainerImages(cluster, { namespace: 'shop-a', name: 'web' }, { php: 'magento:2.4.8-p1' })
 */
export async function patchContainerImages(
  cluster: ClusterClient,
  ref: ObjectRef,
  images: Readonly<Record<string, string>>,
  maxConflicts = 5,
): Promise<V1Deployment> {
  for (let conflicts = 0; ; conflicts++) {
    const current = await readDeployment(cluster, ref);
    const spec = current.spec?.template.spec;
    const containers = new Set((spec?.containers ?? []).map((c) => c.name));
    const initContainers = new Set((spec?.initContainers ?? []).map((c) => c.name));
    const unknown = Object.keys(images).filter((name) => !containers.has(name) && !initContainers.has(name));
    if (unknown.length > 0) {
      throw new InvalidError(op('patch', ref), `no container named ${unknown.join(', ')}`);
    }
    const entries = Object.entries(images);
    const podSpec: Record<string, unknown> = {
      containers: entries.filter(([name]) => containers.has(name)).map(([name, image]) => ({ name, image })),
    };
    const initPatch = entries
      .filter(([name]) => initContainers.has(name))
      .map(([name, image]) => ({ name, image }));
    if (initPatch.length > 0) podSpec.initContainers = initPatch;
    try {
      return await patchDeployment(cluster, ref, {
        metadata: { resourceVersion: current.metadata?.resourceVersion },
        spec: { template: { spec: podSpec } },
      });
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}
