import type { V1Deployment } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { type RolloutProgress, readRolloutProgress } from '../k8s/rolloutProgress.ts';
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
   * mechanism (a change of the Deployment, its ReplicaSets or pods wakes the wait at once).
   */
  readonly recheckMs: number;
  /** A new pod restarting more often than this fails the rollout even between CrashLoopBackOffs. */
  readonly maxRestarts: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Called with the Deployment on every observation, e.g. to notice an external edit; may throw. */
  readonly check?: (deployment: V1Deployment) => void;
  /**
   * Verifies the new pods (the smoke checks) once one of them is Ready, and at the latest before the
   * wait returns 'complete'; may throw. 'later' leaves it to a later observation (or invocation).
   */
  readonly verify?: (progress: RolloutProgress) => Promise<'verified' | 'later'>;
}

type Verdict = 'complete' | 'handed-over' | 'waiting';

/** Whether an observation is one to verify the new pods at: one of them is Ready, or the rollout is complete. */
const verifiable = (progress: RolloutProgress, verdict: Verdict): boolean =>
  verdict === 'complete' ||
  (progress.status.phase !== 'observing' && progress.newPods.some((p) => p.ready && !p.terminating));

/** A wait's verification of the new pods: run once, on the first observation it is due at. */
class Verification {
  readonly #verify: WaitSettings['verify'];
  #done: boolean;

  constructor(verify: WaitSettings['verify']) {
    this.#verify = verify;
    this.#done = verify === undefined;
  }

  /** Runs the verification when it is due; true when it ran and passed just now. */
  async ranOn(progress: RolloutProgress, verdict: Verdict): Promise<boolean> {
    if (this.#done || this.#verify === undefined || !verifiable(progress, verdict)) return false;
    this.#done = (await this.#verify(progress)) === 'verified';
    return this.#done;
  }

  /** The wait's verdict, except that an unverified complete rollout is left to the next invocation. */
  gate(verdict: Verdict): Verdict {
    return verdict === 'complete' && !this.#done ? 'handed-over' : verdict;
  }

  /** The progress after a verification: from the feed's cache when there is one. */
  async fresh(
    feed: RolloutChangeFeed | undefined,
    read: () => Promise<RolloutProgress>,
  ): Promise<RolloutProgress> {
    return feed?.progress() ?? (await read());
  }
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
 * What one observation of the rollout means at `now`: finished, time to hand over, or keep
 * waiting. Throws TargetFailedError (naming the pod and reason) when it failed.
 */
function rolloutVerdict(
  target: string,
  progress: RolloutProgress,
  settings: Pick<WaitSettings, 'deadlineAt' | 'handOverAt' | 'maxRestarts'>,
  now: number,
): Verdict {
  // Until the controller has observed the latest template, the "new" pods are the previous
  // revision's: right after a rollback those are the failing pods being replaced, not a verdict.
  const newPods = progress.status.phase === 'observing' ? [] : progress.newPods;
  for (const pod of newPods) {
    const failure = podFailure(pod, settings.maxRestarts);
    if (failure !== undefined) throw new TargetFailedError(target, failure, pod.name);
  }
  if (progress.status.phase === 'complete') return 'complete';
  if (progress.status.phase === 'failed') throw new TargetFailedError(target, progress.status.message);
  if (now >= settings.deadlineAt) {
    const unready = progress.newPods.find((p) => !p.ready);
    throw new TargetFailedError(
      target,
      `did not complete before the rollout's deadline: ${progress.status.message}${
        unready === undefined ? '' : ` (pod ${unready.name} is ${unready.phase} and not Ready)`
      }`,
    );
  }
  return now >= settings.handOverAt ? 'handed-over' : 'waiting';
}

/**
 * The one timer of a wait: created when none is pending and kept across change events, so a wait
 * leaves at most one `sleep` running when it returns.
 */
class WakeTimer {
  readonly #sleep: (ms: number) => Promise<void>;
  #pending: Promise<'timer'> | undefined;

  constructor(sleep: (ms: number) => Promise<void>) {
    this.#sleep = sleep;
  }

  /** Resolves after `ms`, or — if a timer is already pending — when that one fires. */
  after(ms: number): Promise<'timer'> {
    this.#pending ??= this.#sleep(Math.max(0, ms)).then(() => {
      this.#pending = undefined;
      return 'timer' as const;
    });
    return this.#pending;
  }
}

/**
 * Waits until a Deployment's rollout is complete in `kubectl rollout status` terms, failing fast
 * (TargetFailedError naming the pod and reason) when a pod of the new revision shows
 * ImagePullBackOff, ErrImagePull, CrashLoopBackOff (any non-healing waiting reason) or restarts,
 * when the Progressing condition says ProgressDeadlineExceeded, or when our own deadline passes.
 * Returns 'handed-over' when `handOverAt` comes first. Between observations it waits on informers
 * of the Deployment, its ReplicaSets and pods and judges their caches (no request per change); a
 * timer re-reads from the apiserver every `recheckMs` as a safety net.
 */
export async function waitForDeploymentRollout(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  settings: WaitSettings,
): Promise<'complete' | 'handed-over'> {
  const target = `${namespace}/deployment/${name}`;
  const read = () => readRolloutProgress(cluster, { namespace, name });
  const timer = new WakeTimer(settings.sleep);
  // Opened only when the first read is not final: a finished rollout costs no watch.
  let feed: RolloutChangeFeed | undefined;
  let seen = 0;
  const verification = new Verification(settings.verify);
  try {
    let progress = await read();
    for (;;) {
      settings.check?.(progress.deployment);
      const now = settings.now();
      const verdict = rolloutVerdict(target, progress, settings, now);
      // The checks took a while: judge a fresh observation.
      if (await verification.ranOn(progress, verdict)) {
        progress = await verification.fresh(feed, read);
        continue;
      }
      const gated = verification.gate(verdict);
      if (gated !== 'waiting') return gated;
      let woke: 'opened' | 'changed' | 'timer' = 'opened';
      if (feed === undefined) feed = await RolloutChangeFeed.open(cluster, namespace, name);
      else {
        const wakeAt = Math.min(settings.deadlineAt, settings.handOverAt, now + settings.recheckMs);
        const changed = feed.next(seen).then(() => 'changed' as const);
        woke = await Promise.race([changed, timer.after(wakeAt - now)]);
      }
      // Taken before looking, so a change that arrives while a re-read is under way still wakes the next wait.
      seen = feed.version;
      progress = (woke === 'timer' ? undefined : feed.progress()) ?? (await read());
    }
  } finally {
    feed?.close();
  }
}
