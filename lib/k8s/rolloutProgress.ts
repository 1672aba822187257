import type { V1ReplicaSet } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { readDeployment } from './deployments.ts';
import { labelSelectorString, type ObjectRef } from './objectRef.ts';
import { listPods } from './pods.ts';
import { type PodHealth, podHealth, type RolloutStatus, rolloutStatus } from './rolloutStatus.ts';

/** A rollout as seen right now: kubectl's verdict plus the pods behind it. */
export interface RolloutProgress {
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
 * Reads a Deployment, its ReplicaSets and pods, and reports the rollout with pod waiting
 * reasons and restart counts (what `kubectl rollout status` hides but a rollback decision needs).
 */
export async function readRolloutProgress(cluster: ClusterClient, ref: ObjectRef): Promise<RolloutProgress> {
  const deployment = await readDeployment(cluster, ref);
  const status = rolloutStatus(deployment);
  const selector = deployment.spec?.selector;
  if (selector === undefined) return { status, newTemplateHash: undefined, newPods: [], oldPods: [] };
  const labelSelector = labelSelectorString(selector);
  const [replicaSets, pods] = await Promise.all([
    callK8s(
      cluster.calls,
      { verb: 'list', resource: 'replicasets.apps', namespace: ref.namespace, idempotent: true },
      (options) =>
        cluster.apps.listNamespacedReplicaSet({ namespace: ref.namespace, labelSelector }, options),
    ),
    listPods(cluster, ref.namespace, labelSelector),
  ]);
  const owned = replicaSets.items.filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.uid === deployment.metadata?.uid),
  );
  const current = owned.find((rs) => status.revision !== undefined && revisionOf(rs) === status.revision);
  const newTemplateHash = current?.metadata?.labels?.['pod-template-hash'];
  const health = pods.map(podHealth);
  return {
    status,
    newTemplateHash,
    newPods: health.filter((p) => newTemplateHash !== undefined && p.templateHash === newTemplateHash),
    oldPods: health.filter((p) => newTemplateHash === undefined || p.templateHash !== newTemplateHash),
  };
}
