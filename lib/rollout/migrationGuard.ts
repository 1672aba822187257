import type { V1Job } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { NotFoundError } from '../k8s/errors.ts';
import { deleteJob, jobOutcome, listJobs, waitForJobGone } from '../k8s/jobs.ts';
import { MigrationFailedError } from './errors.ts';

/** Name prefix of every migration Job (migrationJobName). */
const jobPrefix = 'm2-migrate-';

/**
 * How long a deleted migration Job may take to go (its pod's 30 s default grace period included).
 * Half the invocation's 60 s hand-over margin: the deadline can fall at the hand-over, and the
 * reply to CodePipeline must still fit before Lambda's timeout.
 */
const deleteConfirmMs = 30_000;

const selectorOf = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * Refuses to start `job` while another migration Job of the template (its labels, or the name
 * prefix m2-migrate-) is still active: a stage retry under a new job id must not run a second
 * `setup:upgrade` beside an abandoned one. The release's own Job (a resumed invocation) is no other.
 */
export async function assertNoOtherMigration(
  cluster: ClusterClient,
  namespace: string,
  job: V1Job,
): Promise<void> {
  const name = job.metadata?.name ?? '';
  const labels = job.metadata?.labels ?? {};
  const candidates = await listJobs(cluster, namespace, selectorOf(labels));
  const running = candidates.find(
    (j) =>
      j.metadata?.name !== name &&
      j.metadata?.deletionTimestamp === undefined &&
      (Object.keys(labels).length > 0 || (j.metadata?.name ?? '').startsWith(jobPrefix)) &&
      jobOutcome(j) === undefined,
  );
  if (running === undefined) return;
  const other = running.metadata?.name ?? '';
  const release = other.startsWith(jobPrefix) ? other.slice(jobPrefix.length) : 'unknown';
  throw new MigrationFailedError(
    `${namespace}/${name}`,
    `migration Job ${namespace}/${other} of release ${release} is still running; not starting a second ` +
      `one beside it. Wait for it to end, or delete it (kubectl -n ${namespace} delete job ${other}), then retry`,
    undefined,
  );
}

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
