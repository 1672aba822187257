import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { readCronJob } from '../k8s/cronJobs.ts';
import { MigrationFailedError } from './errors.ts';
import { withReleaseImage } from './imageRef.ts';
import { abandonJob, runOneShotJob } from './oneShotJob.ts';

/** Annotation on the migration template saying whether Magento's blue/green deployment is on. */
const blueGreenAnnotation = 'm2-eks-pipeline.io/blue-green-enabled';

/** Reads the migration template (a suspended CronJob). Throws NotFoundError when the shop has none. */
export function readMigrationTemplate(
  cluster: ClusterClient,
  namespace: string,
  name: string,
): Promise<V1CronJob> {
  return readCronJob(cluster, { namespace, name });
}

/** Whether the template says old pods keep working after `setup:upgrade` (env.php blue_green). */
export const blueGreenEnabled = (template: V1CronJob): boolean =>
  ['1', 'true'].includes(template.metadata?.annotations?.[blueGreenAnnotation]?.toLowerCase() ?? '');

/** Name of a release's migration Job. */
export const migrationJobName = (release: string): string =>
  `m2-migrate-${release}`.slice(0, 63).replace(/-+$/, '');

/**
 * The Job `kubectl create job --from=cronjob/<template>` would create, with the release image in
 * every container of the release repository.
 */
export function migrationJob(template: V1CronJob, name: string, repository: string, image: string): V1Job {
  const jobTemplate = template.spec?.jobTemplate;
  const podTemplate = jobTemplate?.spec?.template ?? {};
  const { template: withImage } = withReleaseImage(podTemplate, repository, image);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      labels: { ...jobTemplate?.metadata?.labels },
      annotations: { ...jobTemplate?.metadata?.annotations, 'cronjob.kubernetes.io/instantiate': 'manual' },
    },
    spec: { ...jobTemplate?.spec, template: withImage },
  };
}

/**
 * Runs (or, when it already exists, keeps waiting for) the release's migration Job. Returns
 * 'handed-over' when `waitMs` passes first; throws MigrationFailedError with the log tail when it
 * failed, and deletes it first when its pod cannot run (it would otherwise wait out its deadline).
 */
export async function runMigration(
  cluster: ClusterClient,
  namespace: string,
  job: V1Job,
  waitMs: number,
): Promise<'succeeded' | 'handed-over'> {
  const name = job.metadata?.name ?? '';
  const outcome = await runOneShotJob(cluster, namespace, job, waitMs);
  switch (outcome.kind) {
    case 'succeeded':
    case 'handed-over':
      return outcome.kind;
    case 'failed':
      throw new MigrationFailedError(`${namespace}/${name}`, outcome.detail, outcome.logTail);
    case 'pod-failing': {
      const abandoned = await abandonJob(cluster, namespace, name);
      throw new MigrationFailedError(
        `${namespace}/${name}`,
        `pod ${outcome.pod}: ${outcome.reason}; ${abandoned}`,
        outcome.logTail,
      );
    }
  }
}
