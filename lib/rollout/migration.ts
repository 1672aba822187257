import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { readCronJob } from '../k8s/cronJobs.ts';
import { AlreadyExistsError, K8sTimeoutError } from '../k8s/errors.ts';
import { startInformer } from '../k8s/informer.ts';
import { createJob, waitForJob } from '../k8s/jobs.ts';
import { listPods, readPodLog } from '../k8s/pods.ts';
import { podHealth } from '../k8s/rolloutStatus.ts';
import { MigrationFailedError } from './errors.ts';
import { withReleaseImage } from './imageRef.ts';
import { abandonMigration } from './migrationGuard.ts';
import { podFailure } from './waitRollout.ts';

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
 * Runs (or, when it already exists, keeps waiting for) the release's migration Job. Returns
 * 'handed-over' when `waitMs` passes first; throws MigrationFailedError with the log tail when it failed.
 */
export async function runMigration(
  cluster: ClusterClient,
  namespace: string,
  job: V1Job,
  waitMs: number,
): Promise<'succeeded' | 'handed-over'> {
  const name = job.metadata?.name ?? '';
  try {
    await createJob(cluster, namespace, job);
  } catch (error) {
    // A resumed or duplicated invocation: the Job of this release already runs.
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  const failing = new AbortController();
  // A pod that waits for a reason that does not heal (the Deployments' fail-fast) ends the wait at once.
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
    if (outcome.result === 'succeeded') return 'succeeded';
    const tail = await jobLogTail(cluster, namespace, name);
    throw new MigrationFailedError(
      `${namespace}/${name}`,
      `${outcome.reason ?? 'Failed'}${outcome.message === undefined ? '' : `: ${outcome.message}`}`,
      tail,
    );
  } catch (error) {
    if (error instanceof K8sTimeoutError) return 'handed-over';
    if (!(error instanceof PodFailingError)) throw error;
    const tail = await jobLogTail(cluster, namespace, name);
    const abandoned = await abandonMigration(cluster, namespace, name);
    throw new MigrationFailedError(
      `${namespace}/${name}`,
      `pod ${error.pod}: ${error.reason}; ${abandoned}`,
      tail,
    );
  } finally {
    pods.stop();
  }
}

/** A pod of the migration Job that will not get better by waiting. */
class PodFailingError extends Error {
  constructor(
    readonly pod: string,
    readonly reason: string,
  ) {
    super(`pod ${pod}: ${reason}`);
    this.name = 'PodFailingError';
  }
}
