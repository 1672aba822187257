import type { ClusterClient } from '../k8s/clusterClient.ts';
import { NotFoundError } from '../k8s/errors.ts';
import { acquireLease, type LeaseClaim, releaseLease, renewLease } from '../k8s/leases.ts';
import type { Log } from '../observability/telemetry.ts';
import {
  decodeContinuationToken,
  encodeContinuationToken,
  type RolloutState,
  type TargetRef,
} from './continuationToken.ts';
import {
  ConfigurationError,
  ExternalEditError,
  LeaseBusyError,
  MigrationFailedError,
  PreflightError,
  RolloutError,
} from './errors.ts';
import type { ArtifactImageReader } from './imageArtifact.ts';
import { imageRepository, releaseImages, withReleaseImage } from './imageRef.ts';
import type { JobResults, ReportOutcome } from './jobResults.ts';
import { mustHandOver, type RolloutPhase, rollbackOrder, rolloutStep, terminalPhases } from './machine.ts';
import {
  blueGreenEnabled,
  migrationJob,
  migrationJobName,
  readMigrationTemplate,
  runMigration,
} from './migration.ts';
import { parseRolloutParams, type RolloutParams } from './params.ts';
import type { PipelineJob } from './pipelineJob.ts';
import {
  listConsumerDeployments,
  readTarget,
  recordedTemplate,
  rolloutAnnotations,
  type TargetSnapshot,
  targetName,
  updateTarget,
} from './targets.ts';
import { waitForDeploymentRollout } from './waitRollout.ts';

/** The I/O the rollout needs; the handler passes the real ones, tests may shorten the clock. */
export interface RolloutPorts {
  readonly cluster: ClusterClient;
  readonly results: JobResults;
  readonly log: Log;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Lambda time left (context.getRemainingTimeInMillis). */
  readonly remainingMs: () => number;
  /** Reads the image from the job's input artifact, when UserParameters name none. */
  readonly readArtifactImage?: ArtifactImageReader;
}

export interface RolloutSettings {
  /** Hand over to a continuation when less Lambda time than this is left. */
  readonly marginMs: number;
  /** Reply to CodePipeline at least this often (its no-reply timeout is 20 min). */
  readonly replyEveryMs: number;
  readonly pollMs: number;
  readonly leaseName: string;
  /** Lease duration; renewed on every phase and continuation. Outlives a crashed invocation only this long. */
  readonly leaseSeconds: number;
  readonly maxRestarts: number;
}

export const defaultRolloutSettings: RolloutSettings = Object.freeze({
  marginMs: 60_000,
  replyEveryMs: 14 * 60_000,
  pollMs: 500,
  leaseName: 'm2-rollout',
  leaseSeconds: 900,
  maxRestarts: 2,
});

/** How an invocation ended. */
export interface RolloutResult {
  readonly outcome: 'succeeded' | 'failed' | 'continued' | 'configuration-error' | 'refused';
  readonly message: string;
  readonly reported: ReportOutcome;
  readonly state?: RolloutState;
}

interface Run {
  readonly job: PipelineJob;
  readonly params: RolloutParams;
  readonly ports: RolloutPorts;
  readonly settings: RolloutSettings;
  readonly claim: LeaseClaim;
  readonly invokedAt: number;
  state: RolloutState;
  /** The failure in full (the state carries it clipped to fit the continuation token). */
  failureDetail?: string;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/**
 * Runs one invocation of the rollout action for a CodePipeline job: validates UserParameters,
 * takes the shop's Lease, advances the state machine (preflight → migrate → web → consumers →
 * cron, rollback on failure) as far as the Lambda's time allows, and reports to CodePipeline:
 * success with output variables, failure naming the pod and reason, or a continuation token.
 *
 * @example await runRollout(parsePipelineJob(event), { cluster, results, log, now: Date.now, sleep, remainingMs })
 */
export async function runRollout(
  job: PipelineJob,
  ports: RolloutPorts,
  settings: RolloutSettings = defaultRolloutSettings,
): Promise<RolloutResult> {
  const invokedAt = ports.now();
  let params: RolloutParams;
  try {
    params = parseRolloutParams(job.userParameters);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    ports.log.warn('invalid UserParameters', { jobId: job.id, field: error.field });
    const reported = await ports.results.fail(job.id, 'ConfigurationError', error.message);
    return { outcome: 'configuration-error', message: error.message, reported };
  }
  let state: RolloutState;
  try {
    state =
      job.continuationToken === undefined
        ? {
            v: 1,
            release: job.id.toLowerCase(),
            phase: 'preflight',
            phaseStartedAt: invokedAt,
            targets: [],
            patched: [],
            ...(params.image === undefined && params.imageTag === undefined
              ? { image: await artifactImage(job, ports) }
              : {}),
          }
        : decodeContinuationToken(job.continuationToken);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      const reported = await ports.results.fail(job.id, 'ConfigurationError', error.message);
      return { outcome: 'configuration-error', message: error.message, reported };
    }
    const message = messageOf(error);
    return { outcome: 'failed', message, reported: await ports.results.fail(job.id, 'JobFailed', message) };
  }
  const claim: LeaseClaim = {
    namespace: params.namespace,
    name: settings.leaseName,
    holder: state.release,
    durationSeconds: settings.leaseSeconds,
  };
  const log = { jobId: job.id, release: state.release, namespace: params.namespace };
  const lease = await acquireLease(ports.cluster, claim);
  if (!lease.acquired) {
    const refusal = new LeaseBusyError(params.namespace, lease.lease.holder);
    ports.log.warn('lease held by another rollout', { ...log, holder: lease.lease.holder });
    const reported = await ports.results.fail(job.id, 'JobFailed', refusal.message);
    return { outcome: 'refused', message: refusal.message, reported };
  }
  const run: Run = { job, params, ports, settings, claim, invokedAt, state };
  while (!terminalPhases.has(run.state.phase)) {
    if (
      mustHandOver({
        remainingMs: ports.remainingMs(),
        marginMs: settings.marginMs,
        sinceReplyMs: ports.now() - invokedAt,
        replyEveryMs: settings.replyEveryMs,
      })
    ) {
      return handOver(run);
    }
    const phase = run.state.phase;
    ports.log.info('rollout phase', { ...log, phase });
    let next: RolloutPhase;
    try {
      if ((await runPhase(run)) === 'handed-over') return handOver(run);
      next = rolloutStep(phase, 'done');
    } catch (error) {
      ports.log.warn('rollout phase failed', { ...log, phase, error: (error as Error).name });
      const failure =
        phase === 'rollback'
          ? `${run.failureDetail ?? run.state.failure ?? ''}; rollback failed: ${messageOf(error)}`
          : messageOf(error);
      run.failureDetail = failure;
      run.state = { ...run.state, failure: clip(failure, 400) };
      next = rolloutStep(phase, 'failed');
    }
    run.state = { ...run.state, phase: next, phaseStartedAt: ports.now() };
    await renewLease(ports.cluster, claim);
  }
  await releaseLease(ports.cluster, claim);
  return run.state.phase === 'success' ? reportSuccess(run) : reportFailure(run);
}

/** The image named by the job's input artifact; ConfigurationError when there is none to read. */
async function artifactImage(job: PipelineJob, ports: RolloutPorts): Promise<string> {
  if (job.inputArtifact === undefined || ports.readArtifactImage === undefined) {
    throw new ConfigurationError(
      'UserParameters.image',
      'give "image" or "imageTag", or an input artifact with imageDetail.json',
    );
  }
  try {
    return await ports.readArtifactImage(job.inputArtifact);
  } catch (error) {
    throw new RolloutError(
      `could not read the image from input artifact ${job.inputArtifact.name}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

function runPhase(run: Run): Promise<'done' | 'handed-over'> {
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
      throw new Error(`no step for phase ${run.state.phase}`);
  }
}

/** Time at which this invocation must stop waiting and reply. */
const handOverAt = (run: Run): number =>
  Math.min(
    run.ports.now() + run.ports.remainingMs() - run.settings.marginMs,
    run.invokedAt + run.settings.replyEveryMs,
  );
const phaseDeadline = (run: Run): number => run.state.phaseStartedAt + run.params.timeoutSeconds * 1000;

function releaseImage(run: Run): { image: string; repository: string } {
  const image = run.state.image;
  if (image === undefined) throw new RolloutError('no image resolved (preflight did not run)');
  return { image, repository: imageRepository(image) };
}

async function readOrExplain(run: Run, ref: TargetRef): Promise<TargetSnapshot> {
  try {
    return await readTarget(run.ports.cluster, run.params.namespace, ref);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new PreflightError(`${targetName(run.params.namespace, ref)} does not exist`, { cause: error });
    }
    throw error;
  }
}

async function preflight(run: Run): Promise<'done'> {
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
async function migrationWanted(run: Run): Promise<boolean> {
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

async function migrate(run: Run): Promise<'done' | 'handed-over'> {
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
function assertOurs(run: Run, s: TargetSnapshot, image: string, repository: string): void {
  const name = targetName(run.params.namespace, s.ref);
  const release = s.annotations[rolloutAnnotations.release];
  if (release !== run.state.release)
    throw new ExternalEditError(name, `release annotation is ${release ?? 'absent'}`);
  const images = releaseImages(s.template, repository);
  if (images.length === 0 || images.some((i) => i !== image)) {
    throw new ExternalEditError(name, `image is ${images.join(', ') || 'gone'}`);
  }
}

async function rollForward(run: Run, phase: 'web' | 'consumers' | 'cron'): Promise<'done' | 'handed-over'> {
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
      pollMs: run.settings.pollMs,
      maxRestarts: run.settings.maxRestarts,
      now,
      sleep,
      check: async () => assertOurs(run, await readTarget(cluster, namespace, ref), image, repository),
    });
    if (waited === 'handed-over') return 'handed-over';
  }
  return 'done';
}

async function rollBack(run: Run): Promise<'done' | 'handed-over'> {
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
      pollMs: run.settings.pollMs,
      maxRestarts: Number.MAX_SAFE_INTEGER,
      now,
      sleep,
    });
    if (waited === 'handed-over') return 'handed-over';
  }
  if (untouched.length > 0) throw new RolloutError(untouched.join('; '));
  return 'done';
}

async function handOver(run: Run): Promise<RolloutResult> {
  await renewLease(run.ports.cluster, run.claim);
  const token = encodeContinuationToken(run.state);
  const order: RolloutPhase[] = ['preflight', 'migrate', 'web', 'consumers', 'cron', 'success'];
  const index = order.indexOf(run.state.phase);
  const message = `rollout ${run.state.release} of ${run.params.namespace} continues in phase ${run.state.phase}`;
  run.ports.log.info('handing over to a continuation', {
    jobId: run.job.id,
    namespace: run.params.namespace,
    phase: run.state.phase,
  });
  const reported = await run.ports.results.succeed(run.job.id, {
    summary: message,
    continuationToken: token,
    ...(index < 0 ? {} : { percentComplete: Math.round((index / (order.length - 1)) * 100) }),
  });
  return { outcome: 'continued', message, reported, state: run.state };
}

async function reportSuccess(run: Run): Promise<RolloutResult> {
  const { image } = releaseImage(run);
  const webRef = run.state.targets[0];
  const revision =
    webRef === undefined
      ? undefined
      : (await readTarget(run.ports.cluster, run.params.namespace, webRef)).annotations[
          'deployment.kubernetes.io/revision'
        ];
  const deployments = run.state.targets.filter((t) => t.kind === 'Deployment').length;
  const cronJobs = run.state.targets.length - deployments;
  const message =
    `rolled out ${image} to ${run.params.namespace}: ${deployments} Deployments, ${cronJobs} CronJobs` +
    `${run.state.migrate === true ? ', migration ran' : ', no migration'}`;
  const reported = await run.ports.results.succeed(run.job.id, {
    summary: message,
    outputVariables: {
      release: run.state.release,
      newImage: image,
      previousImage: run.state.previousImage ?? '',
      ...(revision === undefined ? {} : { webRevision: revision }),
    },
  });
  run.ports.log.info('rollout succeeded', { jobId: run.job.id, namespace: run.params.namespace, reported });
  return { outcome: 'succeeded', message, reported, state: run.state };
}

async function reportFailure(run: Run): Promise<RolloutResult> {
  const rolledBack = run.state.patched.map((t) => targetName(run.params.namespace, t));
  const message =
    `rollout ${run.state.release} of ${run.state.image ?? 'the new image'} to ${run.params.namespace} failed: ` +
    `${run.failureDetail ?? run.state.failure ?? 'unknown reason'}. ` +
    (rolledBack.length === 0
      ? 'Nothing was changed.'
      : `Rolled back to the recorded templates: ${rolledBack.reverse().join(', ')}.`);
  const reported = await run.ports.results.fail(run.job.id, 'JobFailed', message);
  run.ports.log.warn('rollout failed', { jobId: run.job.id, namespace: run.params.namespace, reported });
  return { outcome: 'failed', message, reported, state: run.state };
}
