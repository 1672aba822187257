import type { V1Namespace } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';

/** Reads one namespace. Throws NotFoundError when it does not exist. */
export function readNamespace(cluster: ClusterClient, name: string): Promise<V1Namespace> {
  return callK8s(cluster.calls, { verb: 'get', resource: 'namespaces', name, idempotent: true }, (options) =>
    cluster.getNamespace(name, options),
  );
}
