import type { V1Deployment } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import { createDeployment, deleteDeployment, readDeployment } from '../k8s/deployments.ts';
import { AlreadyExistsError, NotFoundError } from '../k8s/errors.ts';
import {
  type RolloutState,
  signContinuationToken,
  type TargetRef,
  TokenTooLongError,
} from './continuationToken.ts';
import { verifyCron } from './cronVerification.ts';
import {
  ExternalEditError,
  MigrationFailedError,
  PreflightError,
  RolloutError,
  TargetFailedError,
} from './errors.ts';
import { imageRepository, releaseImages } from './imageRef.ts';
import { rollbackOrder } from './machine.ts';
import {
  blueGreenEnabled,
  migrationJob,
  migrationJobName,
  readMigrationTemplate,
  runMigration,
} from './migration.ts';
import { assertNoOtherMigration } from './migrationGuard.ts';
import { abandonJob } from './oneShotJob.ts';
import { isPreviewOf, previewDeploymentFor, previewWanted } from './preview.ts';
import { closeQuietWindow, holdQuietWindow } from './quietWindow.ts';
import { allRunning, containerImagesOf, imagesIn, recordValue, sameImages } from './recordedImages.ts';
import { notRestoredReason, restoredImages, restorePlan } from './restorePlan.ts';
import { clip, handOverAt, phaseDeadline, type RolloutRun, releaseImage } from './run.ts';
import { smokePlan } from './smokeChecks.ts';
import { newPodsVerifier } from './smokeTest.ts';
import {
  listConsumerDeployments,
  readTarget,
  recordedImages,
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
    case 'preview':
      return previewWeb(run);
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
  // A malformed smoke-check or preview annotation fails the release before anything is patched.
  for (const s of webSnapshots) {
    smokePlan(targetName(params.namespace, s.ref), s.annotations);
    previewWanted(targetName(params.namespace, s.ref), s.annotations);
  }
  const image = resolvedImage(run, webSnapshots[0]);
  const repository = imageRepository(image);
  // The image before this release: from the images recorded for it when there are, so a retried
  // first invocation (web already on the new image) reports the same previousImage.
  const previousImage =
    state.previousImage ??
    webSnapshots.flatMap((s) => {
      const recorded = recordedImages(s, repository);
      return recorded?.release === state.release
        ? imagesIn(recorded.images)
        : releaseImages(s.template, repository);
    })[0];
  const targets = state.targets.length > 0 ? state.targets : await releaseTargets(run);
  await assertFitsToken(run, targets);
  const migrate = state.migrate ?? (await migrationWanted(run));
  run.state = {
    ...state,
    image,
    targets,
    migrate,
    ...(previousImage === undefined ? {} : { previousImage }),
  };
  // A window another release left open (it crashed, or its close failed) is closed before anything else.
  await closeQuietWindow(run, 'left-behind');
  for (const ref of targets) {
    await readOrExplain(run, ref);
    await updateTarget(cluster, params.namespace, ref, (s) => {
      const name = targetName(params.namespace, ref);
      if (s.annotations[rolloutAnnotations.release] === `${state.release}-rolled-back`) {
        throw new PreflightError(`release ${state.release} was already rolled back on ${name}`);
      }
      if (recordedImages(s, repository)?.release === state.release) return undefined;
      if (s.annotations[rolloutAnnotations.release] === state.release) {
        throw new PreflightError(`${name} runs release ${state.release} but has no images recorded for it`);
      }
      const images = containerImagesOf(s.template, repository);
      if (imagesIn(images).length === 0) {
        throw new PreflightError(`${name} runs no container of ${repository}`);
      }
      // Only the images: a whole template would have to be written back whole, over others' edits.
      return {
        annotations: { [rolloutAnnotations.recorded]: recordValue(state.release, images) },
        // A whole-template record of an earlier release is stale now, and the largest annotation.
        ...(rolloutAnnotations.recordedTemplate in s.annotations
          ? { removeAnnotations: [rolloutAnnotations.recordedTemplate] }
          : {}),
        condition: 'object',
      };
    });
  }
  return 'done';
}

/** What a release rolls, in order: web, consumers (named, or every labelled one), cron. */
export async function releaseTargets(run: RolloutRun): Promise<TargetRef[]> {
  const { params } = run;
  const consumers =
    params.targets.consumers ?? (await listConsumerDeployments(run.ports.cluster, params.namespace));
  return [
    ...params.targets.web.map((name): TargetRef => ({ kind: 'Deployment', name })),
    ...consumers.map((name): TargetRef => ({ kind: 'Deployment', name })),
    ...params.targets.cron.map((name): TargetRef => ({ kind: 'CronJob', name })),
  ];
}

/** The release's image: the token's, UserParameters' or the artifact's, or the tag on the web's repository. */
export function resolvedImage(run: RolloutRun, web: TargetSnapshot | undefined): string {
  const { params, state } = run;
  const firstImage = web?.template.spec?.containers[0]?.image;
  const image =
    state.image ??
    params.image ??
    (firstImage === undefined ? undefined : `${imageRepository(firstImage)}:${params.imageTag ?? ''}`);
  if (image === undefined)
    throw new PreflightError('the web Deployment runs no container to take the repository from');
  return image;
}

/**
 * Refuses, before anything is patched, a shop whose targets would not fit a continuation token in
 * the worst case (every target patched and given up by the rollback, the longest failure text):
 * otherwise the rollout could start and then be unable to hand over.
 */
async function assertFitsToken(run: RolloutRun, targets: readonly TargetRef[]): Promise<void> {
  const worst: RolloutState = {
    ...run.state,
    image: run.state.image ?? 'x'.repeat(512),
    previousImage: 'x'.repeat(512),
    migrate: true,
    targets: [...targets],
    patched: [...targets],
    rolledBack: [],
    notRolledBack: targets.map((ref) => ({ ref, reason: 'x'.repeat(60) })),
    failure: 'x'.repeat(400),
    quiet: 'opening',
    quietSince: run.ports.now(),
    quietReport: 'x'.repeat(200),
  };
  try {
    signContinuationToken(
      worst,
      run.binding,
      'x'.repeat(run.job.id.length),
      await run.ports.tokenKey.tokenKey(),
    );
  } catch (error) {
    if (!(error instanceof TokenTooLongError)) throw error;
    throw new PreflightError(
      `${targets.length} targets do not fit a continuation token (CodePipeline allows 2048 characters); ` +
        'name fewer consumers in UserParameters.targets and roll the rest out in another action',
      { cause: error },
    );
  }
}

/** Whether a migration runs; refuses when it may run but Magento's blue/green deployment is off. */
export async function migrationWanted(run: RolloutRun): Promise<boolean> {
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

/**
 * Runs the migration inside the quiet window: opens it (or resumes holding it), runs the Job, and
 * closes the window whatever the Job did — succeeded, failed, timed out — before the phase ends.
 */
async function migrate(run: RolloutRun): Promise<'done' | 'handed-over'> {
  if (run.state.migrate !== true) return 'done';
  try {
    if (run.state.quiet !== 'quiet' && (await holdQuietWindow(run)) === 'handed-over') return 'handed-over';
    if ((await migrationJobRun(run)) === 'handed-over') return 'handed-over';
  } catch (error) {
    await closeAfterFailure(run);
    throw error;
  }
  await closeQuietWindow(run, 'own');
  return 'done';
}

/**
 * Closes the window after the migration (or holding the window) failed. A close that fails too
 * does not hide the first error: it is logged and reported, and the records it left make the shop's
 * next rollout (or a retry of this one) restore what is left.
 */
async function closeAfterFailure(run: RolloutRun): Promise<void> {
  try {
    await closeQuietWindow(run, 'own');
  } catch (error) {
    run.ports.log.error('quiet window left open after a failed migration', {
      jobId: run.job.id,
      error: error instanceof Error ? error.name : 'unknown',
    });
    run.state = {
      ...run.state,
      quietReport: clip(
        `quiet window NOT closed (${messageOf(error)}); the next rollout of the shop closes it`,
        200,
      ),
    };
  }
}

async function migrationJobRun(run: RolloutRun): Promise<'done' | 'handed-over'> {
  const { cluster, now } = run.ports;
  const { namespace, migrationTemplate, timeoutSeconds } = run.params;
  const { image, repository } = releaseImage(run);
  const name = migrationJobName(run.state.release);
  const template = await readMigrationTemplate(cluster, namespace, migrationTemplate);
  const deadline = phaseDeadline(run);
  const job = migrationJob(template, name, repository, image);
  await assertNoOtherMigration(cluster, namespace, job);
  const result = await runMigration(cluster, namespace, job, Math.min(deadline, handOverAt(run)) - now());
  if (result === 'handed-over' && now() >= deadline) {
    // Left running, it would go on upgrading the schema beside the next release's migration.
    const abandoned = await abandonJob(cluster, namespace, name);
    throw new MigrationFailedError(
      `${namespace}/${name}`,
      `did not finish within ${timeoutSeconds} s; ${abandoned}`,
      undefined,
    );
  }
  return result === 'succeeded' ? 'done' : 'handed-over';
}

/**
 * Runs each web Deployment's new image in its preview (preview.ts) and smoke-checks it there before
 * anything the shop serves from is patched: a release whose pages fail is caught with no customer
 * request reaching it. The preview is deleted again whatever happened; one left behind (a crash, a
 * failed delete) is replaced by the next preview of the shop.
 */
async function previewWeb(run: RolloutRun): Promise<'done' | 'handed-over'> {
  const { cluster, now, sleep, log } = run.ports;
  const { namespace } = run.params;
  const { image, repository } = releaseImage(run);
  for (const name of run.params.targets.web) {
    const target = targetName(namespace, { kind: 'Deployment', name });
    const web = await readDeployment(cluster, { namespace, name });
    const annotations = web.metadata?.annotations ?? {};
    if (smokePlan(target, annotations).checks.length === 0 || !previewWanted(target, annotations)) {
      log.info('no preview', { jobId: run.job.id, target });
      continue;
    }
    const preview = previewDeploymentFor(web, run.state.release, image, repository);
    const previewName = preview.metadata?.name ?? '';
    await openPreview(run, preview);
    let waited: 'complete' | 'handed-over';
    try {
      waited = await waitForDeploymentRollout(cluster, namespace, previewName, {
        deadlineAt: phaseDeadline(run),
        handOverAt: handOverAt(run),
        recheckMs: run.settings.recheckMs,
        maxRestarts: run.settings.maxRestarts,
        now,
        sleep,
        verify: newPodsVerifier(run),
      });
    } catch (error) {
      await closePreview(run, previewName);
      throw error;
    }
    // The preview stays for the next invocation, which adopts it.
    if (waited === 'handed-over') return 'handed-over';
    await closePreview(run, previewName);
    log.info('preview passed', { jobId: run.job.id, target, preview: previewName });
  }
  return 'done';
}

/** Creates the preview; adopts this release's own (a resumed invocation), replaces any other. */
async function openPreview(run: RolloutRun, preview: V1Deployment): Promise<void> {
  const { cluster } = run.ports;
  const { namespace } = run.params;
  const name = preview.metadata?.name ?? '';
  try {
    await createDeployment(cluster, namespace, preview);
    return;
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  const found = await readDeployment(cluster, { namespace, name });
  if (isPreviewOf(found, run.state.release)) return;
  run.ports.log.info('preview of another release replaced', { jobId: run.job.id, namespace, preview: name });
  await deleteDeployment(cluster, { namespace, name });
  await createDeployment(cluster, namespace, preview);
}

async function closePreview(run: RolloutRun, name: string): Promise<void> {
  const { namespace } = run.params;
  try {
    await deleteDeployment(run.ports.cluster, { namespace, name });
  } catch (error) {
    // Not the release's verdict: the next preview of the shop replaces a leftover one.
    if (error instanceof NotFoundError) return;
    run.ports.log.warn('preview not deleted', {
      jobId: run.job.id,
      namespace,
      preview: name,
      error: error instanceof Error ? error.name : 'unknown',
    });
  }
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
  const targets = phaseTargets(run.state, phase, run.params.targets.web.length);
  await patchTargets(run, targets);
  if ((await waitTargets(run, phase, targets)) === 'handed-over') return 'handed-over';
  // Cron's patch proves nothing until its next run; the verification runs one now.
  if (phase === 'cron' && run.params.verifyCron) {
    for (const ref of targets) {
      if ((await verifyCron(run, ref.name)) === 'handed-over') return 'handed-over';
    }
  }
  return 'done';
}

/** Writes the release image into each target (once: a resumed invocation finds it written). */
async function patchTargets(run: RolloutRun, targets: readonly TargetRef[]): Promise<void> {
  const { cluster } = run.ports;
  const { namespace } = run.params;
  const { image, repository } = releaseImage(run);
  const release = run.state.release;
  for (const ref of targets) {
    const name = targetName(namespace, ref);
    await updateTarget(cluster, namespace, ref, (s) => {
      if (s.annotations[rolloutAnnotations.release] === release) {
        assertOurs(run, s, image, repository);
        return undefined;
      }
      // A replayed or resumed invocation never re-applies a release its rollback undid.
      if (s.annotations[rolloutAnnotations.release] === `${release}-rolled-back`) {
        throw new RolloutError(
          `release ${release} was already rolled back on ${name}; it is never re-applied`,
        );
      }
      const recorded = recordedImages(s, repository);
      if (recorded?.release !== release)
        throw new RolloutError(`${name} has no images recorded for ${release}`);
      // Other edits since preflight (env, resources…) are kept: only the images are written.
      const current = containerImagesOf(s.template, repository);
      if (!sameImages(recorded.images, current)) {
        throw new ExternalEditError(name, 'its images changed after preflight');
      }
      return {
        annotations: {
          [rolloutAnnotations.release]: release,
          [rolloutAnnotations.changeCause]: `m2-eks-pipeline rollout ${release}: ${image}`,
        },
        images: allRunning(current, image),
        // The decision rests on annotations that may be absent (no test can say so): the whole object.
        condition: 'object',
      };
    });
    if (!run.state.patched.some((p) => p.kind === ref.kind && p.name === ref.name)) {
      run.state = { ...run.state, patched: [...run.state.patched, ref] };
    }
    run.ports.log.info('target patched', { jobId: run.job.id, target: name });
  }
}

/** Waits for each target Deployment's rollout; the web tier's new pods are smoke-checked too. */
async function waitTargets(
  run: RolloutRun,
  phase: 'web' | 'consumers' | 'cron',
  targets: readonly TargetRef[],
): Promise<'done' | 'handed-over'> {
  const { cluster, now, sleep } = run.ports;
  const { namespace } = run.params;
  const { image, repository } = releaseImage(run);
  for (const ref of targets) {
    if (ref.kind !== 'Deployment') continue;
    const waited = await waitForDeploymentRollout(cluster, namespace, ref.name, {
      deadlineAt: phaseDeadline(run),
      handOverAt: handOverAt(run),
      recheckMs: run.settings.recheckMs,
      maxRestarts: run.settings.maxRestarts,
      now,
      sleep,
      // Ready is not "the shop works": the web tier's new pods must pass their smoke checks too.
      ...(phase === 'web' ? { verify: newPodsVerifier(run) } : {}),
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

/** How often a target's restore is tried, and the first pause between tries (doubled each time). */
const restoreAttempts = 4;
const restoreBackoffMs = 1000;

/**
 * Writes a target's recorded images back, each only where the container still runs the image the
 * release wrote (a `test` on it): 'restored', or why not (wholly). A container someone else changed
 * meanwhile keeps their image, and nothing else of the template is written.
 */
async function restoreTarget(run: RolloutRun, ref: TargetRef): Promise<'restored' | { reason: string }> {
  const { cluster } = run.ports;
  const { namespace } = run.params;
  const { image, repository } = releaseImage(run);
  const release = run.state.release;
  const rolledBack = `${release}-rolled-back`;
  const name = targetName(namespace, ref);
  let reason: string | undefined;
  await updateTarget(cluster, namespace, ref, (s) => {
    const marked = s.annotations[rolloutAnnotations.release];
    if (marked !== release && marked !== rolledBack) {
      throw new ExternalEditError(name, `release annotation is ${marked ?? 'absent'}`);
    }
    const recorded = recordedImages(s, repository);
    if (recorded?.release !== release) throw new GiveUpError(`no images recorded for ${release}`);
    // Rolled back already (a resumed rollback): nothing is written again, only told.
    const plan = restorePlan(
      recorded.images,
      containerImagesOf(s.template),
      marked === release ? image : undefined,
    );
    reason = notRestoredReason(plan);
    const images = restoredImages(plan);
    if (imagesIn(images).length === 0) return undefined;
    return {
      annotations: {
        [rolloutAnnotations.release]: rolledBack,
        [rolloutAnnotations.changeCause]: `m2-eks-pipeline rollback of ${release}`,
      },
      images,
      // The release annotation and each image written are tested; the controller's status updates
      // during the failing rollout do not stop the rollback.
      expectAnnotations: { [rolloutAnnotations.release]: release },
      condition: 'tested-paths',
    };
  });
  run.ports.log.info(reason === undefined ? 'target rolled back' : 'target not wholly rolled back', {
    jobId: run.job.id,
    target: name,
  });
  return reason === undefined ? 'restored' : { reason: clip(reason, 200) };
}

/** A restore that no retry can make succeed. */
class GiveUpError extends RolloutError {
  constructor(message: string) {
    super(message);
    this.name = 'GiveUpError';
  }
}

/**
 * Restores one target, retrying errors with backoff (1, 2, 4 s) — but not an edit by someone else
 * or a missing record, which no retry changes. 'handed-over' when the next pause would pass the
 * hand-over time (the next invocation tries again).
 */
async function restoreWithRetries(
  run: RolloutRun,
  ref: TargetRef,
): Promise<'restored' | 'handed-over' | { reason: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await restoreTarget(run, ref);
    } catch (error) {
      const final = finalReason(error);
      if (final !== undefined) return { reason: final };
      run.ports.log.warn('rollback of a target failed', {
        jobId: run.job.id,
        target: targetName(run.params.namespace, ref),
        attempt,
        error: error instanceof Error ? error.name : 'unknown',
      });
      const pause = restoreBackoffMs * 2 ** (attempt - 1);
      if (attempt >= restoreAttempts) return { reason: clip(messageOf(error), 200) };
      if (run.ports.now() + pause >= handOverAt(run)) return 'handed-over';
      await run.ports.sleep(pause);
    }
  }
}

/** Why a restore failed for good (no retry changes it), or undefined when a retry may succeed. */
function finalReason(error: unknown): string | undefined {
  if (error instanceof ExternalEditError) return 'changed by someone else during the rollout; left as it is';
  if (error instanceof GiveUpError) return error.message;
  return undefined;
}

const sameRef = (a: TargetRef) => (b: TargetRef) => a.kind === b.kind && a.name === b.name;

/**
 * Rolls every patched target back on its own, in reverse order: one that cannot be restored (an
 * edit by someone else, errors after retries) is recorded as not rolled back and the others still
 * are; then waits for each restored Deployment, and one that stays unhealthy is recorded too.
 * The state records each outcome, so a continuation resumes where this invocation stopped.
 */
async function rollBack(run: RolloutRun): Promise<'done' | 'handed-over'> {
  // The migrate phase closes its window itself; this catches one a crash left behind.
  await closeQuietWindow(run, 'any');
  for (const ref of rollbackOrder(run.state.patched)) {
    const settled = [...run.state.rolledBack, ...run.state.notRolledBack.map((n) => n.ref)];
    if (settled.some(sameRef(ref))) continue;
    const outcome = await restoreWithRetries(run, ref);
    if (outcome === 'handed-over') return 'handed-over';
    run.state =
      outcome === 'restored'
        ? { ...run.state, rolledBack: [...run.state.rolledBack, ref] }
        : { ...run.state, notRolledBack: [...run.state.notRolledBack, { ref, reason: outcome.reason }] };
  }
  for (const ref of run.state.rolledBack) {
    if (ref.kind !== 'Deployment') continue;
    const waited = await waitRestored(run, ref);
    if (waited === 'handed-over') return 'handed-over';
  }
  return 'done';
}

/** Waits for a restored Deployment; one that fails its wait moves from rolledBack to notRolledBack. */
async function waitRestored(run: RolloutRun, ref: TargetRef): Promise<'complete' | 'handed-over' | 'failed'> {
  const { cluster, now, sleep } = run.ports;
  try {
    return await waitForDeploymentRollout(cluster, run.params.namespace, ref.name, {
      deadlineAt: phaseDeadline(run),
      handOverAt: handOverAt(run),
      recheckMs: run.settings.recheckMs,
      maxRestarts: Number.MAX_SAFE_INTEGER,
      now,
      sleep,
    });
  } catch (error) {
    if (!(error instanceof TargetFailedError)) throw error;
    run.state = {
      ...run.state,
      rolledBack: run.state.rolledBack.filter((r) => !sameRef(ref)(r)),
      notRolledBack: [
        ...run.state.notRolledBack,
        { ref, reason: clip(`recorded images restored, but ${error.reason}`, 200) },
      ],
    };
    return 'failed';
  }
}
