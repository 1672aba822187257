import { messageOf } from '../common/messageOf.ts';
import { acquireLease, type LeaseClaim, releaseLease, renewLease } from '../k8s/leases.ts';
import { metricNames } from '../observability/metricNames.ts';
import { withFields } from '../observability/telemetry.ts';
import { decodeContinuationToken, encodeContinuationToken, type RolloutState } from './continuationToken.ts';
import { ConfigurationError, LeaseBusyError, RolloutError } from './errors.ts';
import type { ReportOutcome } from './jobResults.ts';
import { mustHandOver, type RolloutPhase, rolloutStep, terminalPhases } from './machine.ts';
import { parseRolloutParams, type RolloutParams } from './params.ts';
import { runPhase } from './phases.ts';
import type { PipelineJob } from './pipelineJob.ts';
import {
  type ReleaseOutcome,
  readReleaseOutcome,
  recordReleaseOutcome,
  withVerdict,
} from './releaseHistory.ts';
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
  readonly outcome: 'succeeded' | 'failed' | 'continued' | 'configuration-error' | 'refused' | 'duplicate';
  readonly message: string;
  readonly reported: ReportOutcome;
  readonly state?: RolloutState;
  /** Why a rollout failed, when this invocation saw it fail. */
  readonly failure?: RolloutFailure;
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
  const refused = await admit(run);
  if (refused !== undefined) return refused;
  if ((await advance(run)) === 'handed-over') return await handOver(run);
  return await finish(run);
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
  let params: RolloutParams;
  let state: RolloutState;
  try {
    params = parseRolloutParams(job.userParameters);
    state = await initialState(job, params, ports, invokedAt);
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
    invokedAt,
    state,
    leaseRenewedAt: invokedAt,
    revisions: new Map(),
  };
}

/** The state of a new release, or the one the continuation token carries. */
async function initialState(
  job: PipelineJob,
  params: RolloutParams,
  ports: RolloutPorts,
  invokedAt: number,
): Promise<RolloutState> {
  if (job.continuationToken !== undefined) return decodeContinuationToken(job.continuationToken);
  return {
    v: 1,
    release: job.id.toLowerCase(),
    phase: 'preflight',
    phaseStartedAt: invokedAt,
    startedAt: invokedAt,
    targets: [],
    patched: [],
    ...(params.image === undefined && params.imageTag === undefined
      ? { image: await artifactImage(job, ports) }
      : {}),
  };
}

/** Reports why the invocation could not even start (bad parameters, token or artifact). */
async function refuseToStart(
  job: PipelineJob,
  ports: RolloutPorts,
  error: unknown,
  firstStart: number | undefined,
): Promise<RolloutResult> {
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
  const finished = await readReleaseOutcome(ports.cluster, claim, state.release);
  if (finished !== undefined) return replyFinished(job, params.namespace, state.release, finished, ports);
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
  const reported = await ports.results.fail(job.id, 'JobFailed', refusal.message);
  recordVerdict(ports, 'failed', state.startedAt);
  return { outcome: 'refused', message: refusal.message, reported };
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

async function handOver(run: RolloutRun): Promise<RolloutResult> {
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
  run.ports.metrics?.count(metricNames.rollout.continuations);
  return { outcome: 'continued', message, reported, state: run.state };
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
  recordVerdict(run.ports, 'succeeded', run.state.startedAt);
  return { outcome: 'succeeded', message, reported, state: run.state };
}

async function reportFailure(run: RolloutRun): Promise<RolloutResult> {
  const rolledBack = run.state.patched.map((t) => targetName(run.params.namespace, t));
  const message =
    `rollout ${run.state.release} of ${run.state.image ?? 'the new image'} to ${run.params.namespace} failed: ` +
    `${run.failureDetail ?? run.state.failure ?? 'unknown reason'}. ` +
    (rolledBack.length === 0
      ? 'Nothing was changed.'
      : `Rolled back to the recorded templates: ${rolledBack.reverse().join(', ')}.`);
  const reported = await run.ports.results.fail(run.job.id, 'JobFailed', message);
  run.ports.log.warn('rollout failed', { jobId: run.job.id, namespace: run.params.namespace, reported });
  recordVerdict(run.ports, rolledBack.length === 0 ? 'failed' : 'rolled-back', run.state.startedAt);
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
