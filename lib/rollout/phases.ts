import { NotFoundError } from '../k8s/errors.ts';
import type { RolloutState, TargetRef } from './continuationToken.ts';
import { ExternalEditError, MigrationFailedError, PreflightError, RolloutError } from './errors.ts';
import { imageRepository, releaseImages, withReleaseImage } from './imageRef.ts';
import { rollbackOrder } from './machine.ts';
import {
  blueGreenEnabled,
  migrationJob,
  migrationJobName,
  readMigrationTemplate,
  runMigration,
} from './migration.ts';
import { handOverAt, phaseDeadline, type RolloutRun, releaseImage } from './run.ts';
import {
  listConsumerDeployments,
  readTarget,
  recordedTemplate,
  rolloutAnnotations,
  type TargetSnapshot,
  targetName,
  targetSnapshot,
  updateTarget,
} from './targets.ts';
import { waitForDeploymentRollout } from './waitRollout.ts';

/** Runs the step of the current phase; returns 'handed-over' when the invocation has to reply first. */
export function runPhase(run: RolloutRun): Promise<'done' | 'handed-over'> {
  switch (run.state.phase) {
    case 'preflight':
      return preflight(run);
    case 'migrate':
      return migrate(run);
    case 'web':
    case 'consumers':
    case 'cron':
      return rollForward(run, run.state.phase);
    case 'rollback':
      return rollBack(run);
    default:
      throw new RolloutError(`no step for phase ${run.state.phase}`);
  }
}

async function readOrExplain(run: RolloutRun, ref: TargetRef): Promise<TargetSnapshot> {
  try {
    return await readTarget(run.ports.cluster, run.params.namespace, ref);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new PreflightError(`${targetName(run.params.namespace, ref)} does not exist`, { cause: error });
    }
    throw error;
  }
}

async function preflight(run: RolloutRun): Promise<'done'> {
  const { params, state } = run;
  const { cluster } = run.ports;
  const web = params.targets.web.map((name): TargetRef => ({ kind: 'Deployment', name }));
  const webSnapshots = await Promise.all(web.map((ref) => readOrExplain(run, ref)));
  const firstImage = webSnapshots[0]?.template.spec?.containers[0]?.image;
  const image =
    state.image ??
    params.image ??
    (firstImage === undefined ? undefined : `${imageRepository(firstImage)}:${params.imageTag ?? ''}`);
  if (image === undefined)
    throw new PreflightError('the web Deployment runs no container to take the repository from');
  const repository = imageRepository(image);
  const previousImage =
    state.previousImage ?? webSnapshots.flatMap((s) => releaseImages(s.template, repository))[0];
  const consumers = params.targets.consumers ?? (await listConsumerDeployments(cluster, params.namespace));
  const targets: TargetRef[] =
    state.targets.length > 0
      ? state.targets
      : [
          ...web,
          ...consumers.map((name): TargetRef => ({ kind: 'Deployment', name })),
          ...params.targets.cron.map((name): TargetRef => ({ kind: 'CronJob', name })),
        ];
  const migrate = state.migrate ?? (await migrationWanted(run));
  run.state = {
    ...state,
    image,
    targets,
    migrate,
    ...(previousImage === undefined ? {} : { previousImage }),
  };
  for (const ref of targets) {
    await readOrExplain(run, ref);
    await updateTarget(cluster, params.namespace, ref, (s) => {
      const name = targetName(params.namespace, ref);
      if (s.annotations[rolloutAnnotations.release] === `${state.release}-rolled-back`) {
        throw new PreflightError(`release ${state.release} was already rolled back on ${name}`);
      }
      if (recordedTemplate(s)?.release === state.release) return undefined;
      if (s.annotations[rolloutAnnotations.release] === state.release) {
        throw new PreflightError(`${name} runs release ${state.release} but has no template recorded for it`);
      }
      if (releaseImages(s.template, repository).length === 0) {
        throw new PreflightError(`${name} runs no container of ${repository}`);
      }
      return {
        annotations: {
          [rolloutAnnotations.recorded]: JSON.stringify({ release: state.release, template: s.template }),
        },
      };
    });
  }
  return 'done';
}

/** Whether a migration runs; refuses when it may run but Magento's blue/green deployment is off. */
async function migrationWanted(run: RolloutRun): Promise<boolean> {
  const { params } = run;
  if (params.migrate === 'never') return false;
  try {
    const template = await readMigrationTemplate(
      run.ports.cluster,
      params.namespace,
      params.migrationTemplate,
    );
    if (!blueGreenEnabled(template)) {
      throw new PreflightError(
        `blue/green deployment is off for ${params.namespace} (annotation m2-eks-pipeline.io/blue-green-enabled on ` +
          `cronjob/${params.migrationTemplate}): old pods would fail against an upgraded schema. ` +
          'Enable deployment/blue_green/enabled, or set "migrate": "never" for a release without schema changes',
      );
    }
    return true;
  } catch (error) {
    if (error instanceof NotFoundError && params.migrate === 'auto') return false;
    if (error instanceof NotFoundError) {
      throw new PreflightError(`migrate is "always" but cronjob/${params.migrationTemplate} does not exist`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function migrate(run: RolloutRun): Promise<'done' | 'handed-over'> {
  if (run.state.migrate !== true) return 'done';
  const { cluster, now } = run.ports;
  const { namespace, migrationTemplate, timeoutSeconds } = run.params;
  const { image, repository } = releaseImage(run);
  const name = migrationJobName(run.state.release);
  const template = await readMigrationTemplate(cluster, namespace, migrationTemplate);
  const deadline = phaseDeadline(run);
  const result = await runMigration(
    cluster,
    namespace,
    migrationJob(template, name, repository, image),
    Math.min(deadline, handOverAt(run)) - now(),
  );
  if (result === 'handed-over' && now() >= deadline) {
    throw new MigrationFailedError(
      `${namespace}/${name}`,
      `did not finish within ${timeoutSeconds} s`,
      undefined,
    );
  }
  return result === 'succeeded' ? 'done' : 'handed-over';
}

const phaseTargets = (
  state: RolloutState,
  phase: 'web' | 'consumers' | 'cron',
  webCount: number,
): TargetRef[] => {
  const deployments = state.targets.filter((t) => t.kind === 'Deployment');
  if (phase === 'web') return deployments.slice(0, webCount);
  if (phase === 'consumers') return deployments.slice(webCount);
  return state.targets.filter((t) => t.kind === 'CronJob');
};

/** Throws ExternalEditError unless the target still runs this release's image. */
function assertOurs(run: RolloutRun, s: TargetSnapshot, image: string, repository: string): void {
  const name = targetName(run.params.namespace, s.ref);
  const release = s.annotations[rolloutAnnotations.release];
  if (release !== run.state.release)
    throw new ExternalEditError(name, `release annotation is ${release ?? 'absent'}`);
  const images = releaseImages(s.template, repository);
  if (images.length === 0 || images.some((i) => i !== image)) {
    throw new ExternalEditError(name, `image is ${images.join(', ') || 'gone'}`);
  }
}

async function rollForward(
  run: RolloutRun,
  phase: 'web' | 'consumers' | 'cron',
): Promise<'done' | 'handed-over'> {
  const { cluster, now, sleep } = run.ports;
  const { namespace } = run.params;
  const { image, repository } = releaseImage(run);
  const release = run.state.release;
  const targets = phaseTargets(run.state, phase, run.params.targets.web.length);
  for (const ref of targets) {
    const name = targetName(namespace, ref);
    await updateTarget(cluster, namespace, ref, (s) => {
      if (s.annotations[rolloutAnnotations.release] === release) {
        assertOurs(run, s, image, repository);
        return undefined;
      }
      const recorded = recordedTemplate(s);
      if (recorded?.release !== release)
        throw new RolloutError(`${name} has no template recorded for ${release}`);
      if (JSON.stringify(recorded.template) !== JSON.stringify(s.template)) {
        throw new ExternalEditError(name, 'its template changed after preflight');
      }
      return {
        annotations: {
          [rolloutAnnotations.release]: release,
          [rolloutAnnotations.changeCause]: `m2-eks-pipeline rollout ${release}: ${image}`,
        },
        template: withReleaseImage(s.template, repository, image).template,
      };
    });
    if (!run.state.patched.some((p) => p.kind === ref.kind && p.name === ref.name)) {
      run.state = { ...run.state, patched: [...run.state.patched, ref] };
    }
    run.ports.log.info('target patched', { jobId: run.job.id, target: name });
  }
  for (const ref of targets) {
    if (ref.kind !== 'Deployment') continue;
    const waited = await waitForDeploymentRollout(cluster, namespace, ref.name, {
      deadlineAt: phaseDeadline(run),
      handOverAt: handOverAt(run),
      recheckMs: run.settings.recheckMs,
      maxRestarts: run.settings.maxRestarts,
      now,
      sleep,
      check: (deployment) => {
        assertOurs(run, targetSnapshot(ref, deployment), image, repository);
        // The last observation is the completing one: its revision is the one to report.
        const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
        if (revision !== undefined) run.revisions.set(ref.name, revision);
      },
    });
    if (waited === 'handed-over') return 'handed-over';
  }
  return 'done';
}

async function rollBack(run: RolloutRun): Promise<'done' | 'handed-over'> {
  const { cluster, now, sleep } = run.ports;
  const { namespace } = run.params;
  const { image, repository } = releaseImage(run);
  const release = run.state.release;
  const rolledBack = `${release}-rolled-back`;
  const untouched: string[] = [];
  const restored: TargetRef[] = [];
  for (const ref of rollbackOrder(run.state.patched)) {
    const name = targetName(namespace, ref);
    try {
      await updateTarget(cluster, namespace, ref, (s) => {
        if (s.annotations[rolloutAnnotations.release] === rolledBack) return undefined;
        assertOurs(run, s, image, repository);
        const recorded = recordedTemplate(s);
        if (recorded?.release !== release)
          throw new RolloutError(`${name} has no template recorded for ${release}`);
        return {
          annotations: {
            [rolloutAnnotations.release]: rolledBack,
            [rolloutAnnotations.changeCause]: `m2-eks-pipeline rollback of ${release}`,
          },
          template: recorded.template,
        };
      });
      restored.push(ref);
      run.ports.log.info('target rolled back', { jobId: run.job.id, target: name });
    } catch (error) {
      if (!(error instanceof ExternalEditError)) throw error;
      untouched.push(error.message);
    }
  }
  for (const ref of restored) {
    if (ref.kind !== 'Deployment') continue;
    const waited = await waitForDeploymentRollout(cluster, namespace, ref.name, {
      deadlineAt: phaseDeadline(run),
      handOverAt: handOverAt(run),
      recheckMs: run.settings.recheckMs,
      maxRestarts: Number.MAX_SAFE_INTEGER,
      now,
      sleep,
    });
    if (waited === 'handed-over') return 'handed-over';
  }
  if (untouched.length > 0) throw new RolloutError(untouched.join('; '));
  return 'done';
}
