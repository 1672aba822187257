import type { V1Job } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { type K8sOperation, K8sTimeoutError, NotFoundError } from './errors.ts';
import { startInformer } from './informer.ts';
import { listAll } from './listAll.ts';
import type { ObjectRef } from './objectRef.ts';

const op = (
  verb: string,
  ref: Partial<ObjectRef> & { namespace: string },
  idempotent = true,
): K8sOperation => ({
  verb,
  resource: 'jobs.batch',
  namespace: ref.namespace,
  ...(ref.name === undefined ? {} : { name: ref.name }),
  idempotent,
});

/** Creates a Job. Throws AlreadyExistsError when one of that name exists. */
export function createJob(cluster: ClusterClient, namespace: string, job: V1Job): Promise<V1Job> {
  const name = job.metadata?.name ?? job.metadata?.generateName;
  return callK8s(
    cluster.calls,
    op('create', { namespace, ...(name === undefined ? {} : { name }) }, false),
    (options) => cluster.createJob(namespace, job, options),
  );
}

/** Deletes a Job and (foreground) its pods. Throws NotFoundError when there is none of that name. */
export function deleteJob(cluster: ClusterClient, ref: ObjectRef): Promise<void> {
  return callK8s(cluster.calls, op('delete', ref), (options) => cluster.deleteJob(ref, options));
}

/** Lists the Jobs of one namespace that match a label selector, following pagination. */
export function listJobs(cluster: ClusterClient, namespace: string, labelSelector: string): Promise<V1Job[]> {
  return listAll(cluster, 'jobs', { namespace, labelSelector, limit: 200 }, op('list', { namespace }));
}

/**
 * Waits until a Job is gone (a foreground delete keeps it until its pods are), looking every
 * `pollMs`: 'gone', or 'still-there' when `timeoutMs` (on the cluster's clock) passes first.
 */
export async function waitForJobGone(
  cluster: ClusterClient,
  ref: ObjectRef,
  timeoutMs: number,
  pollMs = 2000,
): Promise<'gone' | 'still-there'> {
  const { now, sleep } = cluster.calls;
  const deadline = now() + timeoutMs;
  for (;;) {
    const found = await listAll(
      cluster,
      'jobs',
      { namespace: ref.namespace, fieldSelector: `metadata.name=${ref.name}` },
      op('list', ref),
    );
    if (found.length === 0) return 'gone';
    const remaining = deadline - now();
    if (remaining <= 0) return 'still-there';
    await sleep(Math.min(remaining, pollMs));
  }
}

/** How a Job ended. */
export interface JobOutcome {
  readonly result: 'succeeded' | 'failed';
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly job: V1Job;
}

/** The outcome of a finished Job (Complete or Failed condition is True), or undefined while it runs. */
export function jobOutcome(job: V1Job): JobOutcome | undefined {
  const terminal = job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  if (terminal === undefined) return undefined;
  return {
    result: terminal.type === 'Complete' ? 'succeeded' : 'failed',
    reason: terminal.reason,
    message: terminal.message,
    job,
  };
}

/** Longest single wait between looks at the informer's cache (the deadline is checked at least this often). */
const recheckMs = 10_000;

/** What the Job's informer has seen: still running, finished, or gone. */
type JobView = JobOutcome | 'deleted' | undefined;

function viewOf(job: V1Job | undefined): JobView {
  return job === undefined ? 'deleted' : jobOutcome(job);
}

/**
 * Watches one Job (an informer: list, then watch from its resourceVersion, re-listed after 410
 * Gone, restarted after errors) until it finishes or `timeoutMs` passes (K8sTimeoutError). A Job
 * that is missing or deleted while waiting throws NotFoundError. `timeoutMs` is measured on the
 * cluster's clock (`cluster.calls`). An aborted `signal` ends the wait with its reason.
 *
 * @example const { result } = await waitForJob(cluster, { namespace: 'shop-a', name: 'migrate-42' }, 600_000)
 */
export async function waitForJob(
  cluster: ClusterClient,
  ref: ObjectRef,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const { now, sleep } = cluster.calls;
  const aborted = new Promise<void>((resolve) =>
    signal?.addEventListener('abort', () => resolve(), { once: true }),
  );
  const deadline = now() + timeoutMs;
  let wake: () => void = () => undefined;
  const informer = await startInformer(
    cluster,
    'jobs',
    { namespace: ref.namespace, fieldSelector: `metadata.name=${ref.name}` },
    { onChange: () => wake() },
  );
  try {
    for (;;) {
      // A caller that has its verdict (a failing pod) ends the wait with its own reason.
      if (signal?.aborted === true) throw signal.reason;
      const view = viewOf(informer.get(ref.name));
      if (view === 'deleted') throw new NotFoundError(op('watch', ref), 'job does not exist or was deleted');
      if (view !== undefined) return view;
      const remaining = deadline - now();
      if (remaining <= 0)
        throw new K8sTimeoutError(op('watch', ref), `job did not finish within ${timeoutMs} ms`);
      const changed = new Promise<void>((resolve) => {
        wake = resolve;
      });
      // A bounded timer: after the Job finishes, at most this long of it is left pending.
      await Promise.race([changed, aborted, sleep(Math.min(remaining, recheckMs))]);
    }
  } finally {
    informer.stop();
  }
}
