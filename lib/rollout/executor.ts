import { messageOf } from '../common/messageOf.ts';
import { acquireLease, type LeaseClaim, releaseLease, renewLease } from '../k8s/leases.ts';
import { metricNames } from '../observability/metricNames.ts';
import { withFields } from '../observability/telemetry.ts';
import {
  type RolloutState,
  signContinuationToken,
  type TokenBinding,
  type VerifiedToken,
  verifyContinuationToken,
} from './continuationToken.ts';
import { planRelease, planSummary, type ReleasePlan } from './dryRun.ts';
import { ConfigurationError, ContinuationRefusedError, LeaseBusyError, RolloutError } from './errors.ts';
import type { JobDetails, ReportOutcome } from './jobResults.ts';
import { mustHandOver, type RolloutPhase, rolloutStep, terminalPhases } from './machine.ts';
import { parseRolloutParams, type RolloutParams } from './params.ts';
import { runPhase } from './phases.ts';
import type { PipelineJob } from './pipelineJob.ts';
import { closeQuietWindowAtEnd, quietWindowReport } from './quietWindow.ts';
import {
  type ReleaseOutcome,
  readReleaseRecord,
  recordHandOver,
  recordReleaseOutcome,
  withVerdict,
} from './releaseHistory.ts';
import { assertReleaseInput } from './releaseInput.ts';
import {
  clip,
  defaultRolloutSettings,
  failureOf,
  leaseRenewalDue,
  type RolloutFailure,
  type RolloutPorts,
  type RolloutRun,
  type RolloutSettings,
  releaseImage,
} from './run.ts';
import { readTarget, targetName } from './targets.ts';

export { defaultRolloutSettings, type RolloutPorts, type RolloutSettings } from './run.ts';

const revisionAnnotation = 'deployment.kubernetes.io/revision';

/** How an invocation ended. */
export interface RolloutResult {
  readonly outcome:
    | 'succeeded'
    | 'failed'
    | 'continued'
    | 'configuration-error'
    | 'refused'
    | 'duplicate'
    | 'abandoned'
    | 'dry-run';
  readonly message: string;
  readonly reported: ReportOutcome;
  readonly state?: RolloutState;
  /** Why a rollout failed, when this invocation saw it fail. */
  readonly failure?: RolloutFailure;
  /** A dry run's plan, when the preflight would pass. */
  readonly plan?: ReleasePlan;
}

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
  given: RolloutPorts,
  settings: RolloutSettings = defaultRolloutSettings,
): Promise<RolloutResult> {
  const prepared = await prepareRun(job, given, settings);
  if (!('claim' in prepared)) return prepared;
  const run = prepared;
  try {
    if (job.continuationToken === undefined) {
      const invalid = await invalidInput(run);
      if (invalid !== undefined) return invalid;
      if (run.params.dryRun) return await replyWithPlan(run);
    }
    const refused = await admit(run);
    if (refused !== undefined) return refused;
    if ((await advance(run)) === 'handed-over') return await handOver(run);
    return await finish(run);
  } catch (error) {
    // Whatever failed outside a phase (a hand-over, the Lease, a report's read), CodePipeline still
    // hears exactly one reply instead of timing out after 20 minutes.
    return await replyToError(run, error);
  }
}

/**
 * Parses the parameters and builds (or decodes) the release's state; replies to CodePipeline itself
 * when either is wrong. Every log line names the job; the shop and the release join once known.
 */
async function prepareRun(
  job: PipelineJob,
  given: RolloutPorts,
  settings: RolloutSettings,
): Promise<RolloutRun | RolloutResult> {
  const ports: RolloutPorts = { ...given, log: withFields(given.log, { jobId: job.id }) };
  const invokedAt = ports.now();
  // Without a continuation token this invocation is the release's first: its start is the release's.
  const firstStart = job.continuationToken === undefined ? invokedAt : undefined;
  const details = await ports.results.details(job.id);
  if (details === undefined) {
    // Stopped and abandoned (or never a job): there is nobody to reply to and nothing to verify with.
    ports.log.warn('CodePipeline knows no such job; nothing done', { jobId: job.id });
    const message = `CodePipeline knows no job ${job.id}; nothing was done`;
    return { outcome: 'abandoned', message, reported: 'already-reported' };
  }
  let params: RolloutParams;
  let state: RolloutState;
  let issuedBy: string | undefined;
  try {
    assertEventIsTheJob(job, details);
    params = parseRolloutParams(details.userParameters);
    ({ state, issuedBy } = await initialState(job, details, params, ports, invokedAt));
  } catch (error) {
    return refuseToStart(job, ports, error, firstStart);
  }
  const claim: LeaseClaim = {
    namespace: params.namespace,
    name: settings.leaseName,
    holder: state.release,
    durationSeconds: settings.leaseSeconds,
  };
  return {
    job,
    params,
    ports: {
      ...given,
      log: withFields(given.log, { jobId: job.id, namespace: params.namespace, release: state.release }),
    },
    settings,
    claim,
    binding: bindingOf(details, params),
    issuedBy,
    invokedAt,
    state,
    replied: false,
    leaseRenewedAt: invokedAt,
    revisions: new Map(),
  };
}

/**
 * Refuses an event that is not the job CodePipeline has under its id (GetJobDetails): other
 * UserParameters, or a continuation token CodePipeline did not hand to this job.
 */
function assertEventIsTheJob(job: PipelineJob, details: JobDetails): void {
  if (job.userParameters !== details.userParameters) {
    throw new ContinuationRefusedError(
      'foreign',
      `the event's UserParameters are not those of CodePipeline job ${job.id}`,
    );
  }
  if (job.continuationToken !== details.continuationToken) {
    throw new ContinuationRefusedError(
      'tampered',
      `the event's continuation token is not the one CodePipeline holds for job ${job.id}`,
    );
  }
}

/** What this job's continuation tokens are bound to. */
const bindingOf = (details: JobDetails, params: RolloutParams): TokenBinding => ({
  pipelineName: details.pipelineName,
  namespace: params.namespace,
  userParameters: details.userParameters ?? '',
});

/** The state of a new release, or the one the (verified) continuation token carries. */
async function initialState(
  job: PipelineJob,
  details: JobDetails,
  params: RolloutParams,
  ports: RolloutPorts,
  invokedAt: number,
): Promise<{ state: RolloutState; issuedBy: string | undefined }> {
  if (job.continuationToken !== undefined) {
    const binding = bindingOf(details, params);
    const verified = await verifiedToken(job.continuationToken, binding, ports);
    return { state: verified.state, issuedBy: verified.issuedBy };
  }
  const state: RolloutState = {
    v: 1,
    release: job.id.toLowerCase(),
    phase: 'preflight',
    phaseStartedAt: invokedAt,
    startedAt: invokedAt,
    targets: [],
    patched: [],
    rolledBack: [],
    notRolledBack: [],
    ...(params.image === undefined && params.imageTag === undefined
      ? { image: await artifactImage(job, ports) }
      : {}),
  };
  return { state, issuedBy: undefined };
}

/**
 * Verifies the token's signature — with the key read afresh once when it does not match (the key
 * may have been rotated since it was cached) — and its pipeline, shop and UserParameters.
 */
async function verifiedToken(
  token: string,
  binding: TokenBinding,
  ports: RolloutPorts,
): Promise<VerifiedToken> {
  try {
    return verifyContinuationToken(token, binding, await ports.tokenKey.tokenKey());
  } catch (error) {
    if (!(error instanceof ContinuationRefusedError && error.refusal === 'tampered')) throw error;
    return verifyContinuationToken(token, binding, await ports.tokenKey.tokenKey({ fresh: true }));
  }
}

/**
 * Refuses a new release whose namespace or image is wrong (releaseInput.ts) with a
 * ConfigurationError, before the Lease or any record is written; undefined when the input is good.
 */
async function invalidInput(run: RolloutRun): Promise<RolloutResult | undefined> {
  try {
    await assertReleaseInput(run, run.settings.imageRepositories);
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    run.replied = true;
    return await refuseToStart(run.job, run.ports, error, run.state.startedAt);
  }
}

/**
 * A dry run: the plan and the exact patches from reads only — no Lease, no record, no write — as
 * the pipeline's summary and one log line per target; what the preflight would refuse is the
 * failure. Nothing records a verdict: the same job may run for real with `dryRun` removed.
 */
async function replyWithPlan(run: RolloutRun): Promise<RolloutResult> {
  const { job, ports } = run;
  run.replied = true;
  try {
    const plan = await planRelease(run);
    for (const target of plan.targets) {
      ports.log.info('dry run: patch', { jobId: job.id, target: target.target, patch: target.patch });
    }
    const message = planSummary(plan);
    const reported = await ports.results.succeed(job.id, { summary: clip(message, 2048) });
    return { outcome: 'dry-run', message, reported, plan };
  } catch (error) {
    if (!(error instanceof RolloutError)) throw error;
    const message = `dry run: the release would fail in preflight: ${error.message}`;
    return { outcome: 'dry-run', message, reported: await ports.results.fail(job.id, 'JobFailed', message) };
  }
}

/** Reports why the invocation could not even start (bad parameters, token or artifact). */
async function refuseToStart(
  job: PipelineJob,
  ports: RolloutPorts,
  error: unknown,
  firstStart: number | undefined,
): Promise<RolloutResult> {
  if (error instanceof ContinuationRefusedError) {
    // Not a verdict on any release: the release the token names may still be running elsewhere.
    ports.log.warn('continuation refused', { jobId: job.id, refusal: error.refusal });
    return {
      outcome: 'refused',
      message: error.message,
      reported: await ports.results.fail(job.id, 'JobFailed', error.message),
    };
  }
  recordVerdict(ports, 'failed', firstStart);
  if (error instanceof ConfigurationError) {
    ports.log.warn('invalid UserParameters', { jobId: job.id, field: error.field });
    const reported = await ports.results.fail(job.id, 'ConfigurationError', error.message);
    return { outcome: 'configuration-error', message: error.message, reported };
  }
  const message = messageOf(error);
  return { outcome: 'failed', message, reported: await ports.results.fail(job.id, 'JobFailed', message) };
}

/**
 * Decides whether this invocation may run: a redelivered invocation of a release that already has
 * a verdict (possibly older than the release running now) changes nothing, decided before the
 * Lease is even taken; a Lease held by another release refuses it. Returns the reply, or undefined.
 */
async function admit(run: RolloutRun): Promise<RolloutResult | undefined> {
  const { job, params, ports, claim, state } = run;
  const record = await readReleaseRecord(ports.cluster, claim, state.release);
  if (record.outcome !== undefined) {
    run.replied = true;
    return replyFinished(job, params.namespace, state.release, record.outcome, ports);
  }
  const replay = replayOf(run, record.handedOverBy);
  if (replay !== undefined) {
    ports.log.warn('continuation refused', {
      jobId: job.id,
      release: state.release,
      refusal: replay.refusal,
    });
    run.replied = true;
    return {
      outcome: 'refused',
      message: replay.message,
      reported: await ports.results.fail(job.id, 'JobFailed', replay.message),
    };
  }
  const lease = await acquireLease(ports.cluster, claim);
  if (lease.acquired) {
    run.leaseRenewedAt = ports.now();
    return undefined;
  }
  const refusal = new LeaseBusyError(params.namespace, lease.lease.holder);
  ports.log.warn('lease held by another rollout', {
    jobId: job.id,
    release: state.release,
    namespace: params.namespace,
    holder: lease.lease.holder,
  });
  // CodePipeline hears "failed" for this release: a redelivery once the Lease is free must not run it.
  await recordReleaseOutcome(ports.cluster, claim, state.release, 'failed');
  run.replied = true;
  const reported = await ports.results.fail(job.id, 'JobFailed', refusal.message);
  recordVerdict(ports, 'failed', state.startedAt);
  return { outcome: 'refused', message: refusal.message, reported };
}

/**
 * Whether this invocation replays an older one: a continuation must carry the token of the
 * release's last hand-over (the Lease records its job), and a first invocation is only run while
 * the release has not handed over at all. Either way nothing has been touched yet.
 */
function replayOf(run: RolloutRun, handedOverBy: string | undefined): ContinuationRefusedError | undefined {
  const release = run.state.release;
  if (run.issuedBy === undefined) {
    return handedOverBy === undefined
      ? undefined
      : new ContinuationRefusedError(
          'replayed',
          `release ${release} already handed over to a continuation (job ${handedOverBy}); this is a repeated first invocation`,
        );
  }
  if (handedOverBy === run.issuedBy) return undefined;
  return new ContinuationRefusedError(
    'replayed',
    handedOverBy === undefined
      ? `the shop's Lease records no hand-over of release ${release}`
      : `the token was handed over by job ${run.issuedBy}, but release ${release} last handed over in job ${handedOverBy}`,
  );
}

/** Runs phases until the rollout ends or this invocation has to hand over to a continuation. */
async function advance(run: RolloutRun): Promise<'finished' | 'handed-over'> {
  const { ports, settings } = run;
  while (!terminalPhases.has(run.state.phase)) {
    const handOverNow = mustHandOver({
      remainingMs: ports.remainingMs(),
      marginMs: settings.marginMs,
      sinceReplyMs: ports.now() - run.invokedAt,
      replyEveryMs: settings.replyEveryMs,
    });
    if (handOverNow || (await stepPhase(run)) === 'handed-over') return 'handed-over';
    if (leaseRenewalDue(run)) {
      await renewLease(ports.cluster, run.claim);
      run.leaseRenewedAt = ports.now();
    }
  }
  return 'finished';
}

/** Runs the current phase once and moves the state to the next phase (or towards rollback). */
async function stepPhase(run: RolloutRun): Promise<'stepped' | 'handed-over'> {
  const phase = run.state.phase;
  const log = { jobId: run.job.id, release: run.state.release, namespace: run.params.namespace, phase };
  run.ports.log.info('rollout phase', log);
  let next: RolloutPhase;
  try {
    if ((await runPhase(run)) === 'handed-over') return 'handed-over';
    next = rolloutStep(phase, 'done');
  } catch (error) {
    run.ports.log.warn('rollout phase failed', {
      ...log,
      error: error instanceof Error ? error.name : 'unknown',
    });
    const failure =
      phase === 'rollback'
        ? `${run.failureDetail ?? run.state.failure ?? ''}; rollback failed: ${messageOf(error)}`
        : messageOf(error);
    run.failureDetail = failure;
    run.failure ??= failureOf(error);
    run.failedIn ??= phase;
    run.state = { ...run.state, failure: clip(failure, 400) };
    next = rolloutStep(phase, 'failed');
  }
  run.state = { ...run.state, phase: next, phaseStartedAt: run.ports.now() };
  return 'stepped';
}

/**
 * Records the verdict on the Lease (before the report: a redelivery re-sends it) in the write that
 * releases it; when the Lease is not ours any more, records it on its own. Then reports.
 */
async function finish(run: RolloutRun): Promise<RolloutResult> {
  const { cluster } = run.ports;
  const outcome = run.state.phase === 'success' ? 'succeeded' : 'failed';
  const annotate = withVerdict(run.state.release, outcome);
  if (!(await releaseLease(cluster, run.claim, { annotate }))) {
    await recordReleaseOutcome(cluster, run.claim, run.state.release, outcome);
  }
  return outcome === 'succeeded' ? reportSuccess(run) : reportFailure(run);
}

/**
 * Replies for a release that already has a verdict, touching nothing in the cluster. CodePipeline
 * normally refuses the reply (InvalidJobStateException: the job was reported), which is the expected
 * case for a redelivery; if the first reply was lost, this one carries the same verdict.
 */
async function replyFinished(
  job: PipelineJob,
  namespace: string,
  release: string,
  outcome: ReleaseOutcome,
  ports: RolloutPorts,
): Promise<RolloutResult> {
  const message = `rollout ${release} of ${namespace} already ${outcome}; this repeated invocation changed nothing`;
  const reported =
    outcome === 'succeeded'
      ? await ports.results.succeed(job.id, { summary: message })
      : await ports.results.fail(job.id, 'JobFailed', message);
  ports.log.info('repeated invocation of a finished release', {
    jobId: job.id,
    release,
    namespace,
    reported,
  });
  return { outcome: 'duplicate', message, reported };
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

/**
 * Signs the state, records the hand-over on the Lease (renewing it) and replies with the token.
 * When CodePipeline refuses the reply, the job is no longer in progress (Stop and abandon, a
 * timeout): no continuation will come, so the Lease is released with the release recorded as
 * abandoned, and what was patched is left as it is.
 */
async function handOver(run: RolloutRun): Promise<RolloutResult> {
  const token = signContinuationToken(
    run.state,
    run.binding,
    run.job.id,
    await run.ports.tokenKey.tokenKey(),
  );
  await recordHandOver(run.ports.cluster, run.claim, run.job.id);
  run.leaseRenewedAt = run.ports.now();
  const order: RolloutPhase[] = ['preflight', 'migrate', 'preview', 'web', 'consumers', 'cron', 'success'];
  const index = order.indexOf(run.state.phase);
  const message = `rollout ${run.state.release} of ${run.params.namespace} continues in phase ${run.state.phase}`;
  run.ports.log.info('handing over to a continuation', {
    jobId: run.job.id,
    namespace: run.params.namespace,
    phase: run.state.phase,
  });
  run.replied = true;
  let reported: ReportOutcome;
  try {
    reported = await run.ports.results.succeed(run.job.id, {
      summary: message,
      continuationToken: token,
      ...(index < 0 ? {} : { percentComplete: Math.round((index / (order.length - 1)) * 100) }),
    });
  } catch (error) {
    // CodePipeline may never have had the token: undo the record, so Lambda's retry of this very
    // event (carrying the previous token, or none) is admitted rather than refused as a replay.
    await recordHandOver(run.ports.cluster, run.claim, run.issuedBy);
    throw error;
  }
  if (reported === 'already-reported') return abandon(run);
  run.ports.metrics?.count(metricNames.rollout.continuations);
  return { outcome: 'continued', message, reported, state: run.state };
}

/** The job ended without us: release the Lease, recording the release as abandoned. */
async function abandon(run: RolloutRun): Promise<RolloutResult> {
  const { cluster } = run.ports;
  // Nobody continues this release: its quiet window is closed now, not left to the next release.
  await closeQuietWindowAtEnd(run);
  const annotate = withVerdict(run.state.release, 'abandoned');
  if (!(await releaseLease(cluster, run.claim, { annotate }))) {
    await recordReleaseOutcome(cluster, run.claim, run.state.release, 'abandoned');
  }
  const left = run.state.patched.filter(
    (t) => !run.state.rolledBack.some((r) => r.kind === t.kind && r.name === t.name),
  );
  const message =
    `CodePipeline no longer waits for job ${run.job.id} (stopped or timed out): rollout ${run.state.release} of ` +
    `${run.params.namespace} abandoned in phase ${run.state.phase}, Lease released` +
    (left.length === 0
      ? ''
      : `; left on the new image: ${left.map((t) => targetName(run.params.namespace, t)).join(', ')}`) +
    quietWindowReport(run.state);
  run.ports.log.warn('rollout abandoned', {
    jobId: run.job.id,
    namespace: run.params.namespace,
    phase: run.state.phase,
  });
  return { outcome: 'abandoned', message, reported: 'already-reported', state: run.state };
}

/**
 * The one reply after an error outside the phases: the verdict is recorded and the Lease released
 * as far as the cluster allows (each step on its own), then CodePipeline hears the failure naming
 * what was left changed. An error after the reply was sent is not hidden: Lambda sees it.
 */
async function replyToError(run: RolloutRun, error: unknown): Promise<RolloutResult> {
  if (run.replied) throw error;
  const { cluster, log } = run.ports;
  log.error('rollout could not go on', {
    jobId: run.job.id,
    namespace: run.params.namespace,
    phase: run.state.phase,
    error: error instanceof Error ? error.name : 'unknown',
  });
  try {
    if (!(await releaseLease(cluster, run.claim, { annotate: withVerdict(run.state.release, 'failed') }))) {
      await recordReleaseOutcome(cluster, run.claim, run.state.release, 'failed');
    }
  } catch (recordError) {
    log.error('could not record the verdict on the Lease', {
      jobId: run.job.id,
      error: recordError instanceof Error ? recordError.name : 'unknown',
    });
  }
  await closeQuietWindowAtEnd(run);
  const { namespace } = run.params;
  const { rolledBack, notRolledBack } = run.state;
  const settled = [...rolledBack, ...notRolledBack.map((n) => n.ref)];
  const left = run.state.patched.filter((t) => !settled.some((r) => r.kind === t.kind && r.name === t.name));
  // A target the rollback gave up on may be partly restored: its reason says which containers.
  const outcome = [
    ...(left.length === 0
      ? []
      : [`Left on the new image, not rolled back: ${left.map((t) => targetName(namespace, t)).join(', ')}.`]),
    ...(notRolledBack.length === 0
      ? []
      : [
          `NOT rolled back: ${notRolledBack.map((n) => `${targetName(namespace, n.ref)} (${n.reason})`).join('; ')}.`,
        ]),
  ];
  const message =
    `rollout ${run.state.release} of ${run.state.image ?? 'the new image'} to ${namespace} stopped in phase ` +
    `${run.state.phase}: ${messageOf(error)}. ` +
    (outcome.length === 0 ? 'No target is left on the new image.' : outcome.join(' ')) +
    quietWindowReport(run.state);
  run.replied = true;
  const reported = await run.ports.results.fail(run.job.id, 'JobFailed', message);
  recordVerdict(run.ports, 'failed', run.state.startedAt);
  return { outcome: 'failed', message, reported, state: run.state, failure: run.failure ?? failureOf(error) };
}

/** The web Deployment's revision: as its wait saw it complete, else (a continuation) as read now. */
async function webRevision(run: RolloutRun): Promise<string | undefined> {
  const webRef = run.state.targets[0];
  if (webRef === undefined) return undefined;
  return (
    run.revisions.get(webRef.name) ??
    (await readTarget(run.ports.cluster, run.params.namespace, webRef)).annotations[revisionAnnotation]
  );
}

async function reportSuccess(run: RolloutRun): Promise<RolloutResult> {
  const { image } = releaseImage(run);
  const revision = await webRevision(run);
  const deployments = run.state.targets.filter((t) => t.kind === 'Deployment').length;
  const cronJobs = run.state.targets.length - deployments;
  const message =
    `rolled out ${image} to ${run.params.namespace}: ${deployments} Deployments, ${cronJobs} CronJobs` +
    `${run.state.migrate === true ? ', migration ran' : ', no migration'}` +
    (run.state.quiet === undefined ? '' : `.${quietWindowReport(run.state)}`);
  run.replied = true;
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
  recordVerdict(run.ports, 'succeeded', run.state.startedAt);
  return { outcome: 'succeeded', message, reported, state: run.state };
}

/** What the rollback did, target by target: restored ones, and the others with why. */
function rollbackReport(run: RolloutRun): string {
  const { namespace } = run.params;
  const { patched, rolledBack, notRolledBack } = run.state;
  if (patched.length === 0) {
    return run.failedIn === 'preview'
      ? 'Caught on the preview pod, deleted again: no web, consumer or cron pod ran the new image, nothing was changed' +
          (run.state.migrate === true ? ' but the database migration, which had run and stays.' : '.')
      : 'Nothing was changed.';
  }
  const parts = [
    ...(rolledBack.length === 0
      ? []
      : [
          `Rolled back to the recorded images: ${rolledBack.map((t) => targetName(namespace, t)).join(', ')}.`,
        ]),
    ...(notRolledBack.length === 0
      ? []
      : [
          `NOT rolled back: ${notRolledBack.map((n) => `${targetName(namespace, n.ref)} (${n.reason})`).join('; ')}.`,
        ]),
  ];
  const unsettled = patched.filter(
    (t) =>
      ![...rolledBack, ...notRolledBack.map((n) => n.ref)].some(
        (r) => r.kind === t.kind && r.name === t.name,
      ),
  );
  if (unsettled.length > 0) {
    parts.push(
      `Not rolled back (the rollback did not reach them): ${unsettled.map((t) => targetName(namespace, t)).join(', ')}.`,
    );
  }
  return parts.join(' ');
}

async function reportFailure(run: RolloutRun): Promise<RolloutResult> {
  const fullyRolledBack =
    run.state.patched.length > 0 && run.state.rolledBack.length === run.state.patched.length;
  const message =
    `rollout ${run.state.release} of ${run.state.image ?? 'the new image'} to ${run.params.namespace} failed: ` +
    `${run.failureDetail ?? run.state.failure ?? 'unknown reason'}. ${rollbackReport(run)}` +
    quietWindowReport(run.state);
  run.replied = true;
  const reported = await run.ports.results.fail(run.job.id, 'JobFailed', message);
  run.ports.log.warn('rollout failed', { jobId: run.job.id, namespace: run.params.namespace, reported });
  recordVerdict(run.ports, fullyRolledBack ? 'rolled-back' : 'failed', run.state.startedAt);
  return {
    outcome: 'failed',
    message,
    reported,
    state: run.state,
    ...(run.failure === undefined ? {} : { failure: run.failure }),
  };
}

/**
 * Counts a release's verdict and, when its start is known (the first invocation's, carried in
 * the continuation token), how long it took. A repeated invocation of a finished release is not
 * a verdict and is not counted again.
 */
function recordVerdict(
  ports: RolloutPorts,
  outcome: 'succeeded' | 'rolled-back' | 'failed',
  startedAt: number | undefined,
): void {
  const names = metricNames.rollout;
  const metrics = ports.metrics;
  if (metrics === undefined) return;
  metrics.count(
    outcome === 'succeeded' ? names.succeeded : outcome === 'rolled-back' ? names.rolledBack : names.failed,
  );
  if (startedAt !== undefined) metrics.milliseconds(names.duration, ports.now() - startedAt, { outcome });
}
