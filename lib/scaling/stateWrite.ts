import type { ClusterClient, JsonPatchOperation } from '../k8s/clusterClient.ts';
import { jsonPatchDeployment } from '../k8s/deployments.ts';
import { ConflictError, InvalidError } from '../k8s/errors.ts';
import { annotationPath as pointer } from '../k8s/jsonPatch.ts';
import type { ObjectRef } from '../k8s/objectRef.ts';
import { stateAnnotations } from './annotations.ts';

/**
 * Writes the scaler's annotations as a compare-and-swap on its own state annotation: a JSON
 * patch whose first operation tests that the state is still `previousRaw`. Unlike a
 * resourceVersion precondition, the deployment controller's status updates do not make it fail —
 * only another scaler invocation that recorded a different state does, which is the one race that
 * matters here. Without a previous state (the first write to a Deployment) there is nothing to
 * test: the annotations are simply added (two first writers would both record the same first
 * reading). A lost race throws ConflictError.
 */
export async function writeScalerState(
  cluster: ClusterClient,
  ref: ObjectRef,
  previousRaw: string | undefined,
  annotations: Readonly<Record<string, string>>,
): Promise<void> {
  const op = {
    verb: 'patch',
    resource: 'deployments.apps',
    namespace: ref.namespace,
    name: ref.name,
    idempotent: true,
  };
  const body: JsonPatchOperation[] = [
    ...(previousRaw === undefined
      ? []
      : [{ op: 'test' as const, path: pointer(stateAnnotations.state), value: previousRaw }]),
    ...Object.entries(annotations).map(([key, value]) => ({ op: 'add' as const, path: pointer(key), value })),
  ];
  try {
    await jsonPatchDeployment(cluster, ref, body);
  } catch (error) {
    // A failed `test` operation is answered 422; the state changed under us.
    if (error instanceof InvalidError) {
      throw new ConflictError(op, 'the scaler state changed since it was read', {
        status: 409,
        cause: error,
      });
    }
    throw error;
  }
}
