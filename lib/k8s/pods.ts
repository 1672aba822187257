import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { readDeployment } from './deployments.ts';
import { InvalidError } from './errors.ts';
import { labelSelectorString, type ObjectRef } from './objectRef.ts';

/**
 * Lists the pods a Deployment selects (all its ReplicaSets, old and new), following pagination.
 */
export async function listDeploymentPods(cluster: ClusterClient, ref: ObjectRef): Promise<V1Pod[]> {
  const deployment = await readDeployment(cluster, ref);
  const selector = deployment.spec?.selector;
  if (selector === undefined) {
    throw new InvalidError(
      { verb: 'list', resource: 'pods', namespace: ref.namespace, idempotent: true },
      `deployment ${ref.name} has no selector`,
    );
  }
  return listPods(cluster, ref.namespace, labelSelectorString(selector));
}

/** Lists pods in one namespace by label selector, following pagination. */
export async function listPods(
  cluster: ClusterClient,
  namespace: string,
  labelSelector: string,
): Promise<V1Pod[]> {
  const items: V1Pod[] = [];
  let continueToken: string | undefined;
  do {
    const token = continueToken;
    const page = await callK8s(
      cluster.calls,
      { verb: 'list', resource: 'pods', namespace, idempotent: true },
      (options) =>
        cluster.core.listNamespacedPod(
          { namespace, labelSelector, limit: 500, ...(token === undefined ? {} : { _continue: token }) },
          options,
        ),
    );
    items.push(...page.items);
    continueToken = page.metadata?._continue === '' ? undefined : page.metadata?._continue;
  } while (continueToken !== undefined);
  return items;
}

/**
 * Sets (string) or removes (null) annotations on a pod with a JSON merge patch; other
 * annotations stay as they are.
 *
 * @example await patchPodAnnotations(cluster, pod, { 'controller.kubernetes.io/pod-deletion-cost': '-100' })
 */
export function patchPodAnnotations(
  cluster: ClusterClient,
  ref: ObjectRef,
  annotations: Readonly<Record<string, string | null>>,
): Promise<V1Pod> {
  return callK8s(
    cluster.calls,
    { verb: 'patch', resource: 'pods', namespace: ref.namespace, name: ref.name, idempotent: true },
    (options) =>
      cluster.core.patchNamespacedPod(
        { ...ref, body: { metadata: { annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
      ),
  );
}
