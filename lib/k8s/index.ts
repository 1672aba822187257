/**
 * lib/k8s: the one narrow, typed way the functions talk to a Kubernetes cluster (EKS in
 * production, any kubeconfig elsewhere). Every call has a timeout, retries transient failures
 * and throws typed errors from ./errors.ts.
 */
export { type CallSettings, callK8s, defaultCallSettings } from './call.ts';
export { type ClusterClient, createClusterClient } from './clusterClient.ts';
export {
  type ClusterSettings,
  clusterSettingsFromEnv,
  type EksClusterSettings,
  type KubeconfigClusterSettings,
} from './clusterSettings.ts';
export { type ConnectionDeps, connectCluster, sharedClusterClient } from './connection.ts';
export {
  listDeploymentsByLabel,
  type PatchKind,
  patchContainerImages,
  patchDeployment,
  readDeployment,
} from './deployments.ts';
export { createEksToken, type EksToken, eksTokenPrefix } from './eksToken.ts';
export { EksTokenProvider } from './eksTokenProvider.ts';
export * from './errors.ts';
export { type ClusterIdentity, whoAmI } from './identity.ts';
export { createJob, deleteJob, type JobOutcome, jobOutcome, readJob, waitForJob } from './jobs.ts';
export {
  acquireLease,
  type LeaseAcquisition,
  type LeaseClaim,
  type LeaseState,
  leaseExpired,
  releaseLease,
  renewLease,
} from './leases.ts';
export { labelSelectorString, type ObjectRef } from './objectRef.ts';
export { listDeploymentPods, listPods, patchPodAnnotations } from './pods.ts';
export { type RolloutProgress, readRolloutProgress } from './rolloutProgress.ts';
export {
  type ContainerWaiting,
  fatalWaitingReasons,
  isPodFailing,
  type PodHealth,
  podHealth,
  type RolloutPhase,
  type RolloutStatus,
  rolloutStatus,
} from './rolloutStatus.ts';
export { type DeploymentScale, readScale, type ScaleUpdate, updateScale, writeScale } from './scale.ts';
