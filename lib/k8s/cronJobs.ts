import type { V1CronJob } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient, JsonPatchOperation } from './clusterClient.ts';
import type { K8sOperation } from './errors.ts';
import type { ObjectRef } from './objectRef.ts';

const op = (verb: string, ref: ObjectRef): K8sOperation => ({
  verb,
  resource: 'cronjobs.batch',
  namespace: ref.namespace,
  name: ref.name,
  idempotent: true,
});

/** Reads one CronJob. Throws NotFoundError when it does not exist. */
export function readCronJob(cluster: ClusterClient, ref: ObjectRef): Promise<V1CronJob> {
  return callK8s(cluster.calls, op('get', ref), (options) => cluster.getCronJob(ref, options));
}

/** Applies an RFC 6902 JSON patch to a CronJob (see `jsonPatchDeployment`). */
export function jsonPatchCronJob(
  cluster: ClusterClient,
  ref: ObjectRef,
  operations: readonly JsonPatchOperation[],
): Promise<V1CronJob> {
  return callK8s(cluster.calls, op('patch', ref), (options) =>
    cluster.patchCronJob(ref, { type: 'json', operations }, options),
  );
}
