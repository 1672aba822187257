import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';

/** Who the apiserver thinks the caller is. */
export interface ClusterIdentity {
  readonly username: string;
  readonly groups: readonly string[];
}

/** `kubectl auth whoami`: asks the apiserver (SelfSubjectReview) which user and groups the credentials map to. */
export async function whoAmI(cluster: ClusterClient): Promise<ClusterIdentity> {
  const review = await callK8s(
    cluster.calls,
    { verb: 'create', resource: 'selfsubjectreviews.authentication.k8s.io', idempotent: true },
    (options) =>
      cluster.authentication.createSelfSubjectReview(
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
        options,
      ),
  );
  return { username: review.status?.userInfo?.username ?? '', groups: review.status?.userInfo?.groups ?? [] };
}
