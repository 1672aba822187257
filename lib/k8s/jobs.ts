import { type V1Job, Watch } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { type K8sOperation, K8sTimeoutError, NotFoundError } from './errors.ts';
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
    (options) => cluster.batch.createNamespacedJob({ namespace, body: job }, options),
  );
}

/** Reads a Job. */
export function readJob(cluster: ClusterClient, ref: ObjectRef): Promise<V1Job> {
  return callK8s(cluster.calls, op('get', ref), (options) => cluster.batch.readNamespacedJob(ref, options));
}

/** Deletes a Job and (in the background) its pods. Returns false when it was already gone. */
export async function deleteJob(cluster: ClusterClient, ref: ObjectRef): Promise<boolean> {
  try {
    await callK8s(cluster.calls, op('delete', ref), (options) =>
      cluster.batch.deleteNamespacedJob({ ...ref, propagationPolicy: 'Background' }, options),
    );
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
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

/**
 * Watches one Job until it finishes or `timeoutMs` passes (K8sTimeoutError). A broken or
 * expired watch is re-established from a fresh read, so apiserver restarts do not lose the outcome.
 *
 * @example const { result } = await waitForJob(cluster, { namespace: 'shop-a', name: 'migrate-42' }, 600_000)
 */
export async function waitForJob(
  cluster: ClusterClient,
  ref: ObjectRef,
  timeoutMs: number,
): Promise<JobOutcome> {
  const deadline = cluster.calls.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const job = await readJob(cluster, ref);
    const done = jobOutcome(job);
    if (done !== undefined) return done;
    const remaining = deadline - cluster.calls.now();
    if (remaining <= 0)
      throw new K8sTimeoutError(op('watch', ref), `job did not finish within ${timeoutMs} ms`);
    const watched = await watchJobOnce(cluster, ref, job.metadata?.resourceVersion, remaining);
    if (watched === 'deleted')
      throw new NotFoundError(op('watch', ref), 'job was deleted while waiting for it');
    if (watched !== undefined) return watched;
    // The watch ended without an outcome (timeout, 410 Gone, connection lost): read again, briefly backing off.
    await cluster.calls.sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
  }
}

function watchJobOnce(
  cluster: ClusterClient,
  ref: ObjectRef,
  resourceVersion: string | undefined,
  remainingMs: number,
): Promise<JobOutcome | 'deleted' | undefined> {
  return new Promise((resolve) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (value: JobOutcome | 'deleted' | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), remainingMs);
    new Watch(cluster.kubeConfig)
      .watch(
        `/apis/batch/v1/namespaces/${encodeURIComponent(ref.namespace)}/jobs`,
        {
          fieldSelector: `metadata.name=${ref.name}`,
          timeoutSeconds: Math.max(1, Math.min(300, Math.ceil(remainingMs / 1000))),
          ...(resourceVersion === undefined ? {} : { resourceVersion }),
        },
        (phase: string, object: V1Job) => {
          if (phase === 'DELETED') finish('deleted');
          else if (phase === 'ADDED' || phase === 'MODIFIED') {
            const outcome = jobOutcome(object);
            if (outcome !== undefined) finish(outcome);
          } else if (phase === 'ERROR') finish(undefined);
        },
        () => finish(undefined),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        () => finish(undefined),
      );
  });
}
