import type { V1Pod } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { listAll } from './listAll.ts';
import type { ObjectRef } from './objectRef.ts';

/** Lists pods in one namespace by label selector, following pagination. */
export function listPods(cluster: ClusterClient, namespace: string, labelSelector: string): Promise<V1Pod[]> {
  return listAll(
    cluster,
    'pods',
    { namespace, labelSelector, limit: 500 },
    { verb: 'list', resource: 'pods', namespace, idempotent: true },
  );
}

/** The last `lines` lines of a pod's (only or first) container's log. */
export function readPodLog(cluster: ClusterClient, ref: ObjectRef, lines: number): Promise<string> {
  return callK8s(
    cluster.calls,
    { verb: 'get', resource: 'pods/log', namespace: ref.namespace, name: ref.name, idempotent: true },
    (options) => cluster.getPodLog(ref, lines, options),
  );
}
