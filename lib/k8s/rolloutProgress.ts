import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { ClusterClient } from './clusterClient.ts';
import { readDeployment } from './deployments.ts';
import { listAll } from './listAll.ts';
import { labelSelectorString, type ObjectRef } from './objectRef.ts';
import { listPods } from './pods.ts';
import { type PodHealth, podHealth, type RolloutStatus, rolloutStatus } from './rolloutStatus.ts';

/** A rollout as seen right now: kubectl's verdict plus the pods behind it. */
export interface RolloutProgress {
  /** The Deployment the progress was computed from. */
  readonly deployment: V1Deployment;
  readonly status: RolloutStatus;
  /** `pod-template-hash` of the ReplicaSet at the Deployment's current revision, once it exists. */
  readonly newTemplateHash: string | undefined;
  /** Pods of the current revision. */
  readonly newPods: readonly PodHealth[];
  /** Pods of older revisions still around. */
  readonly oldPods: readonly PodHealth[];
}

const revisionOf = (rs: V1ReplicaSet): string | undefined =>
  rs.metadata?.annotations?.['deployment.kubernetes.io/revision'];

/**
 * The rollout of a Deployment given its ReplicaSets and the pods its selector matches (a pure
 * function: the objects may come from a read or from informers' caches).
 */
export function rolloutProgressOf(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  pods: readonly V1Pod[],
): RolloutProgress {
  const status = rolloutStatus(deployment);
  const owned = replicaSets.filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.uid === deployment.metadata?.uid),
  );
  const current = owned.find((rs) => status.revision !== undefined && revisionOf(rs) === status.revision);
  const newTemplateHash = current?.metadata?.labels?.['pod-template-hash'];
  const health = pods.map(podHealth);
  return {
    deployment,
    status,
    newTemplateHash,
    newPods: health.filter((p) => newTemplateHash !== undefined && p.templateHash === newTemplateHash),
    oldPods: health.filter((p) => newTemplateHash === undefined || p.templateHash !== newTemplateHash),
  };
}

/**
 * Reads a Deployment, its ReplicaSets and pods, and reports the rollout with pod waiting
 * reasons and restart counts (what `kubectl rollout status` hides but a rollback decision needs).
 */
export async function readRolloutProgress(cluster: ClusterClient, ref: ObjectRef): Promise<RolloutProgress> {
  const deployment = await readDeployment(cluster, ref);
  const selector = deployment.spec?.selector;
  if (selector === undefined) return rolloutProgressOf(deployment, [], []);
  const labelSelector = labelSelectorString(selector);
  const [replicaSets, pods] = await Promise.all([
    listAll(
      cluster,
      'replicasets',
      { namespace: ref.namespace, labelSelector },
      { verb: 'list', resource: 'replicasets.apps', namespace: ref.namespace, idempotent: true },
    ),
    listPods(cluster, ref.namespace, labelSelector),
  ]);
  return rolloutProgressOf(deployment, replicaSets, pods);
}
