import type { V1ContainerStatus, V1Deployment, V1Pod } from '@kubernetes/client-node';

/**
 * Where a Deployment's rollout stands, in `kubectl rollout status` terms:
 * - `observing`: the controller has not seen the latest spec yet (generation > observedGeneration)
 * - `progressing`: new replicas are still being created, old ones terminated, or new ones becoming available
 * - `complete`: every desired replica is updated and available, no old replica left
 * - `failed`: the Progressing condition says ProgressDeadlineExceeded
 */
export type RolloutPhase = 'observing' | 'progressing' | 'complete' | 'failed';

export interface RolloutStatus {
  readonly phase: RolloutPhase;
  /** kubectl's wording for the same state. */
  readonly message: string;
  readonly desiredReplicas: number;
  readonly updatedReplicas: number;
  readonly readyReplicas: number;
  readonly availableReplicas: number;
  /** Replicas of older ReplicaSets still counted in status.replicas. */
  readonly oldReplicas: number;
  /** `deployment.kubernetes.io/revision` of the Deployment, when the controller has set it. */
  readonly revision: string | undefined;
}

/** kubectl's reason on the Progressing condition when progressDeadlineSeconds passed. */
const progressDeadlineExceeded = 'ProgressDeadlineExceeded';

/**
 * Evaluates a Deployment exactly as `kubectl rollout status` does (a pure function of the object).
 *
 * @example rolloutStatus(await readDeployment(cluster, ref)).phase === 'complete'
 */
export function rolloutStatus(deployment: V1Deployment): RolloutStatus {
  const name = deployment.metadata?.name ?? '';
  const status = deployment.status ?? {};
  const desiredReplicas = deployment.spec?.replicas ?? 1;
  const updatedReplicas = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const availableReplicas = status.availableReplicas ?? 0;
  const base = {
    desiredReplicas,
    updatedReplicas,
    readyReplicas: status.readyReplicas ?? 0,
    availableReplicas,
    oldReplicas: Math.max(0, replicas - updatedReplicas),
    revision: deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'],
  };
  const result = (phase: RolloutPhase, message: string): RolloutStatus => ({ phase, message, ...base });

  if ((deployment.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return result('observing', 'Waiting for deployment spec update to be observed...');
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === progressDeadlineExceeded) {
    return result('failed', `deployment "${name}" exceeded its progress deadline`);
  }
  const waiting = `Waiting for deployment "${name}" rollout to finish: `;
  if (deployment.spec?.replicas !== undefined && updatedReplicas < desiredReplicas) {
    return result(
      'progressing',
      `${waiting}${updatedReplicas} out of ${desiredReplicas} new replicas have been updated...`,
    );
  }
  if (replicas > updatedReplicas) {
    return result(
      'progressing',
      `${waiting}${replicas - updatedReplicas} old replicas are pending termination...`,
    );
  }
  if (availableReplicas < updatedReplicas) {
    return result(
      'progressing',
      `${waiting}${availableReplicas} of ${updatedReplicas} updated replicas are available...`,
    );
  }
  return result('complete', `deployment "${name}" successfully rolled out`);
}

/** Why one container is not running, as the kubelet reports it. */
interface ContainerWaiting {
  readonly container: string;
  readonly reason: string;
  readonly message: string | undefined;
}

/** What a rollout needs to know about one pod. */
export interface PodHealth {
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  /** Being deleted (deletionTimestamp set): on its way out, no longer counted by the Deployment. */
  readonly terminating: boolean;
  /** `pod-template-hash`: which ReplicaSet (old or new) the pod belongs to. */
  readonly templateHash: string | undefined;
  readonly images: readonly string[];
  /** Sum of restartCount over all containers. */
  readonly restarts: number;
  readonly waiting: readonly ContainerWaiting[];
  /** Reason of the last termination of any container (Error, OOMKilled, …), if one restarted. */
  readonly lastTerminationReason: string | undefined;
}

/** Waiting reasons that do not heal by themselves: a rollout seeing them on new pods should roll back. */
const fatalWaitingReasons: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Summarises a pod: readiness, waiting reasons and restart counts of its containers. */
export function podHealth(pod: V1Pod): PodHealth {
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  const waiting = statuses.flatMap((s) =>
    s.state?.waiting?.reason === undefined
      ? []
      : [{ container: s.name, reason: s.state.waiting.reason, message: s.state.waiting.message }],
  );
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    templateHash: pod.metadata?.labels?.['pod-template-hash'],
    images: (pod.spec?.containers ?? []).map((c) => c.image ?? ''),
    restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    waiting,
    lastTerminationReason: statuses.find((s) => s.lastState?.terminated?.reason !== undefined)?.lastState
      ?.terminated?.reason,
  };
}

/** Whether any container of the pod waits for a reason that will not heal by itself. */
export const isPodFailing = (pod: PodHealth): boolean =>
  pod.waiting.some((w) => fatalWaitingReasons.has(w.reason));
