import type { V1Scale } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { ConflictError, type K8sOperation } from './errors.ts';
import type { ObjectRef } from './objectRef.ts';

/** A Deployment's scale subresource as read: desired and current replicas, and its version. */
export interface DeploymentScale extends ObjectRef {
  /** spec.replicas: what was asked for. */
  readonly replicas: number;
  /** status.replicas: what the ReplicaSets currently have. */
  readonly currentReplicas: number;
  /** Write back with this to be sure nobody changed the scale in between. */
  readonly resourceVersion: string;
}

const op = (verb: string, ref: ObjectRef): K8sOperation => ({
  verb,
  resource: 'deployments.apps/scale',
  namespace: ref.namespace,
  name: ref.name,
  idempotent: true,
});

function toScale(ref: ObjectRef, scale: V1Scale): DeploymentScale {
  return {
    namespace: ref.namespace,
    name: ref.name,
    replicas: scale.spec?.replicas ?? 0,
    currentReplicas: scale.status?.replicas ?? 0,
    resourceVersion: scale.metadata?.resourceVersion ?? '',
  };
}

/** Reads a Deployment's scale subresource. */
export async function readScale(cluster: ClusterClient, ref: ObjectRef): Promise<DeploymentScale> {
  const scale = await callK8s(cluster.calls, op('get', ref), (options) =>
    cluster.getDeploymentScale(ref, options),
  );
  return toScale(ref, scale);
}

/**
 * Sets replicas if, and only if, the scale is still at `resourceVersion` (the apiserver checks
 * it). Throws ConflictError when someone else wrote in between.
 */
export async function writeScale(
  cluster: ClusterClient,
  ref: ObjectRef,
  replicas: number,
  resourceVersion: string,
): Promise<DeploymentScale> {
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new RangeError(`replicas must be a whole number ≥ 0, not ${replicas}`);
  const scale = await callK8s(cluster.calls, op('update', ref), (options) =>
    cluster.updateDeploymentScale(
      ref,
      {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: ref.name, namespace: ref.namespace, resourceVersion },
        spec: { replicas },
      },
      options,
    ),
  );
  return toScale(ref, scale);
}

/** What `updateScale` did. */
export interface ScaleUpdate {
  readonly scale: DeploymentScale;
  readonly previousReplicas: number;
  readonly changed: boolean;
}

/**
 * Read–decide–write loop on the scale subresource: `decide` gets the current scale and
 * returns the replicas it wants (or undefined to leave it). A concurrent writer makes the
 * write conflict; the loop then re-reads and decides again, so no update is lost.
 *
 * @example await updateScale(cluster, ref, (s) => Math.min(s.replicas + 1, 10))
 */
export async function updateScale(
  cluster: ClusterClient,
  ref: ObjectRef,
  decide: (current: DeploymentScale) => number | undefined,
  maxConflicts = 10,
): Promise<ScaleUpdate> {
  for (let conflicts = 0; ; conflicts++) {
    const current = await readScale(cluster, ref);
    const desired = decide(current);
    if (desired === undefined || desired === current.replicas) {
      return { scale: current, previousReplicas: current.replicas, changed: false };
    }
    try {
      const scale = await writeScale(cluster, ref, desired, current.resourceVersion);
      return { scale, previousReplicas: current.replicas, changed: true };
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
      // Spread concurrent writers apart before they read again.
      await cluster.calls.sleep(Math.round(cluster.calls.random() * 50 * (conflicts + 1)));
    }
  }
}
