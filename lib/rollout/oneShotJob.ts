import type { V1Job } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { AlreadyExistsError, K8sTimeoutError, NotFoundError } from '../k8s/errors.ts';
import { startInformer } from '../k8s/informer.ts';
import { createJob, deleteJob, waitForJob, waitForJobGone } from '../k8s/jobs.ts';
import { listPods, readPodLog } from '../k8s/pods.ts';
import { podHealth } from '../k8s/rolloutStatus.ts';
import { podFailure } from './waitRollout.ts';

/**
 * How a one-shot Job of the rollout (the migration, the cron verification) ended this invocation:
 * - `succeeded`;
 * - `handed-over`: still running when the wait ended (the next invocation adopts it);
 * - `failed`: the Job's Failed condition (backoff limit, deadline), with its pod's log tail;
 * - `pod-failing`: a pod waits for a reason that does not heal (ImagePullBackOff, CrashLoopBackOff…),
 *   with the log tail; the Job still exists and would wait out its deadline, so the caller deletes it.
 */
export type OneShotOutcome =
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'handed-over' }
  | { readonly kind: 'failed'; readonly detail: string; readonly logTail: string }
  | { readonly kind: 'pod-failing'; readonly pod: string; readonly reason: string; readonly logTail: string };

/** The last lines of the log of a Job's (first) pod, or a note why it could not be read. */
async function jobLogTail(
  cluster: ClusterClient,
  namespace: string,
  job: string,
  lines = 30,
): Promise<string> {
  const pods = await listPods(cluster, namespace, `job-name=${job}`);
  const pod = pods[0]?.metadata?.name;
  if (pod === undefined) return '(no pod of the job is left)';
  try {
    const log = await readPodLog(cluster, { namespace, name: pod }, lines);
    return `pod ${pod}:\n${log}`;
  } catch (error) {
    return `pod ${pod}: log not readable (${messageOf(error)})`;
  }
}

/**
 * Creates the Job (or, when it already exists, adopts it: a resumed or duplicated invocation) and
 * waits up to `waitMs` for its verdict. Pods are watched beside the Job, so one that cannot run
 * ends the wait at once instead of at the Job's deadline.
 */
export async function runOneShotJob(
  cluster: ClusterClient,
  namespace: string,
  job: V1Job,
  waitMs: number,
): Promise<OneShotOutcome> {
  const name = job.metadata?.name ?? '';
  try {
    await createJob(cluster, namespace, job);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  const failing = new AbortController();
  const pods = await startInformer(
    cluster,
    'pods',
    { namespace, labelSelector: `job-name=${name}` },
    {
      onChange: (pod) => {
        // Restarts alone are the Job's backoffLimit to judge, not ours.
        const reason = podFailure(podHealth(pod), Number.MAX_SAFE_INTEGER);
        if (reason !== undefined && !failing.signal.aborted) {
          failing.abort(new PodFailingError(pod.metadata?.name ?? '', reason));
        }
      },
    },
  );
  try {
    const outcome = await waitForJob(cluster, { namespace, name }, Math.max(1, waitMs), failing.signal);
    if (outcome.result === 'succeeded') return { kind: 'succeeded' };
    return {
      kind: 'failed',
      detail: `${outcome.reason ?? 'Failed'}${outcome.message === undefined ? '' : `: ${outcome.message}`}`,
      logTail: await jobLogTail(cluster, namespace, name),
    };
  } catch (error) {
    if (error instanceof K8sTimeoutError) return { kind: 'handed-over' };
    if (!(error instanceof PodFailingError)) throw error;
    return {
      kind: 'pod-failing',
      pod: error.pod,
      reason: error.reason,
      logTail: await jobLogTail(cluster, namespace, name),
    };
  } finally {
    pods.stop();
  }
}

/** A pod of the Job that will not get better by waiting. */
class PodFailingError extends Error {
  constructor(
    readonly pod: string,
    readonly reason: string,
  ) {
    super(`pod ${pod}: ${reason}`);
    this.name = 'PodFailingError';
  }
}

/**
 * How long a deleted one-shot Job may take to go (its pod's 30 s default grace period included).
 * Half the invocation's 60 s hand-over margin: the deadline can fall at the hand-over, and the
 * reply to CodePipeline must still fit before Lambda's timeout.
 */
const deleteConfirmMs = 30_000;

/**
 * Deletes a one-shot Job of the rollout that is given up on (a migration's pod stops `setup:upgrade`,
 * a cron verification's stops `cron:run`) and waits, bounded, until it is gone, so no next release's
 * migration can start beside it. Returns what happened, for
 * the failure report: deleted, or exactly what is not confirmed and which Job an operator must check.
 */
export async function abandonJob(cluster: ClusterClient, namespace: string, name: string): Promise<string> {
  const ref = { namespace, name };
  try {
    await deleteJob(cluster, ref);
  } catch (error) {
    if (error instanceof NotFoundError) return `job ${namespace}/${name} is gone`;
    return `job ${namespace}/${name} NOT deleted (${messageOf(error)}); delete it before the next release`;
  }
  try {
    if ((await waitForJobGone(cluster, ref, deleteConfirmMs)) === 'gone') {
      return `job ${namespace}/${name} and its pod deleted`;
    }
    return `job ${namespace}/${name} deletion requested but not confirmed within ${deleteConfirmMs / 1000} s; check it is gone before the next release`;
  } catch (error) {
    return `job ${namespace}/${name} deletion requested but not confirmed (${messageOf(error)}); check it is gone before the next release`;
  }
}
