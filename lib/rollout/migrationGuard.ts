import type { V1Job } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { jobOutcome, listJobs } from '../k8s/jobs.ts';
import { MigrationFailedError } from './errors.ts';

/** Name prefix of every migration Job (migrationJobName). */
const jobPrefix = 'm2-migrate-';

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
