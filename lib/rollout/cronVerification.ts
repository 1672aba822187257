import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { readCronJob } from '../k8s/cronJobs.ts';
import { NotFoundError } from '../k8s/errors.ts';
import { deleteJob } from '../k8s/jobs.ts';
import { TargetFailedError } from './errors.ts';
import { migrationJob } from './migration.ts';
import { abandonJob, runOneShotJob } from './oneShotJob.ts';
import { handOverAt, phaseDeadline, type RolloutRun, releaseImage } from './run.ts';
import { targetName } from './targets.ts';

/**
 * Label on a verification Job naming the CronJob it verifies. Admission (m2-rollout-images, binding
 * m2-rollout-verify-cron) holds a Job with it to that CronJob's jobTemplate; the CronJob
 * controller's own Jobs never carry it.
 */
export const verifiesLabel = 'rollout.m2-eks-pipeline.io/verifies';

/** Name of a release's verification Job of a cron CronJob. */
export const cronVerificationJobName = (cronJob: string, release: string): string =>
  `${cronJob}-verify-${release}`.slice(0, 63).replace(/-+$/, '');

/**
 * One `cron:run` from the CronJob's jobTemplate, as `kubectl create job --from=cronjob/<cron>` makes
 * it, with the release image, and labelled as its verification.
 */
export function cronVerificationJob(
  cronJob: V1CronJob,
  release: string,
  repository: string,
  image: string,
): V1Job {
  const name = cronJob.metadata?.name ?? '';
  const job = migrationJob(cronJob, cronVerificationJobName(name, release), repository, image);
  return {
    ...job,
    metadata: { ...job.metadata, labels: { ...job.metadata?.labels, [verifiesLabel]: name } },
  };
}

/**
 * Cron is not proven by its patch: the CronJob's next run is the first to start the new code, after
 * the release was reported a success. So one `cron:run` with the release image runs now, and the
 * cron phase waits for it. A failed run (its log tail in the report), a pod that cannot run and a
 * run past the phase's deadline fail the target, and the rollout rolls back; the Job of a pod that
 * cannot run or of an overdue run is deleted first. A passed run's Job is deleted too: its verdict
 * is in the rollout's report, and a leftover would count in the next release's quiet window.
 */
export async function verifyCron(run: RolloutRun, cronJob: string): Promise<'done' | 'handed-over'> {
  const { cluster, now, log } = run.ports;
  const { namespace, timeoutSeconds } = run.params;
  const { image, repository } = releaseImage(run);
  const target = targetName(namespace, { kind: 'CronJob', name: cronJob });
  const template = await readCronJob(cluster, { namespace, name: cronJob });
  const job = cronVerificationJob(template, run.state.release, repository, image);
  const name = job.metadata?.name ?? '';
  const what = `verification job ${namespace}/${name} (cron:run with ${image})`;
  const deadline = phaseDeadline(run);
  const outcome = await runOneShotJob(cluster, namespace, job, Math.min(deadline, handOverAt(run)) - now());
  switch (outcome.kind) {
    case 'succeeded':
      await removeJob(run, name);
      log.info('cron verified', { jobId: run.job.id, target, job: name });
      return 'done';
    case 'handed-over': {
      if (now() < deadline) return 'handed-over';
      const abandoned = await abandonJob(cluster, namespace, name);
      throw new TargetFailedError(target, `${what} did not finish within ${timeoutSeconds} s; ${abandoned}`);
    }
    case 'failed':
      throw new TargetFailedError(
        target,
        `${what} failed: ${outcome.detail}\n--- log tail ---\n${outcome.logTail}`,
      );
    case 'pod-failing': {
      const abandoned = await abandonJob(cluster, namespace, name);
      throw new TargetFailedError(
        target,
        `${what}: pod ${outcome.pod}: ${outcome.reason}; ${abandoned}\n--- log tail ---\n${outcome.logTail}`,
      );
    }
  }
}

/** Deletes a passed verification Job; a failed delete is logged, never the release's verdict. */
async function removeJob(run: RolloutRun, name: string): Promise<void> {
  const { namespace } = run.params;
  try {
    await deleteJob(run.ports.cluster, { namespace, name });
  } catch (error) {
    if (error instanceof NotFoundError) return;
    run.ports.log.warn('verification job not deleted', {
      jobId: run.job.id,
      namespace,
      job: name,
      error: error instanceof Error ? error.name : 'unknown',
    });
  }
}
