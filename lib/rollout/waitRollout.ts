import type { ClusterClient } from '../k8s/clusterClient.ts';
import { readRolloutProgress } from '../k8s/rolloutProgress.ts';
import { isPodFailing, type PodHealth } from '../k8s/rolloutStatus.ts';
import { RolloutChangeFeed } from './changeFeed.ts';
import { TargetFailedError } from './errors.ts';

/** How long and how closely to watch one Deployment. */
export interface WaitSettings {
  /** Our own wall-clock deadline (ms since epoch): the Progressing deadline may never be set. */
  readonly deadlineAt: number;
  /** Stop watching (without a verdict) at this time, to hand over to the next invocation. */
  readonly handOverAt: number;
  /**
   * Read again after this long even when the watches report nothing: a safety net, not the
   * mechanism (a change of the Deployment or one of its pods wakes the wait at once).
   */
  readonly recheckMs: number;
  /** A new pod restarting more often than this fails the rollout even between CrashLoopBackOffs. */
  readonly maxRestarts: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Called on every observation, e.g. to notice an external edit of the target; may throw. */
  readonly check?: () => Promise<void>;
}

/** Why a new pod makes the rollout fail, if it does: a waiting reason that does not heal, or restarts. */
export function podFailure(pod: PodHealth, maxRestarts: number): string | undefined {
  if (isPodFailing(pod)) {
    const w = pod.waiting[0];
    return w === undefined
      ? undefined
      : `${w.reason} (container ${w.container}${w.message ? `: ${w.message}` : ''})`;
  }
  if (pod.restarts > maxRestarts) {
    return `restarted ${pod.restarts} times (last: ${pod.lastTerminationReason ?? 'unknown'})`;
  }
  return undefined;
}

/**
 * Waits until a Deployment's rollout is complete in `kubectl rollout status` terms, failing fast
 * (TargetFailedError naming the pod and reason) when a pod of the new revision shows
 * ImagePullBackOff, ErrImagePull, CrashLoopBackOff (any non-healing waiting reason) or restarts,
 * when the Progressing condition says ProgressDeadlineExceeded, or when our own deadline passes.
 * Returns 'handed-over' when `handOverAt` comes first. Between reads it waits on watches of the
 * Deployment and its pods (re-opened when they expire), not on a timer.
 */
export async function waitForDeploymentRollout(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  settings: WaitSettings,
): Promise<'complete' | 'handed-over'> {
  const target = `${namespace}/deployment/${name}`;
  // Opened only when the first read is not final: a finished rollout costs no watch.
  let feed: RolloutChangeFeed | undefined;
  try {
    for (;;) {
      const seen = feed?.version ?? 0;
      await settings.check?.();
      const progress = await readRolloutProgress(cluster, { namespace, name });
      for (const pod of progress.newPods) {
        const failure = podFailure(pod, settings.maxRestarts);
        if (failure !== undefined) throw new TargetFailedError(target, failure, pod.name);
      }
      if (progress.status.phase === 'complete') return 'complete';
      if (progress.status.phase === 'failed') throw new TargetFailedError(target, progress.status.message);
      const now = settings.now();
      if (now >= settings.deadlineAt) {
        const unready = progress.newPods.find((p) => !p.ready);
        throw new TargetFailedError(
          target,
          `did not complete before the rollout's deadline: ${progress.status.message}${
            unready === undefined ? '' : ` (pod ${unready.name} is ${unready.phase} and not Ready)`
          }`,
        );
      }
      if (now >= settings.handOverAt) return 'handed-over';
      feed ??= await RolloutChangeFeed.open(cluster, namespace, name);
      const wakeAt = Math.min(settings.deadlineAt, settings.handOverAt, now + settings.recheckMs);
      await feed.changedSince(seen, wakeAt - now);
    }
  } finally {
    feed?.close();
  }
}
