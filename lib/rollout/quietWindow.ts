import type { V1CronJob, V1Deployment } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import type { JsonPatchOperation } from '../k8s/clusterClient.ts';
import { jsonPatchCronJob, readCronJob } from '../k8s/cronJobs.ts';
import { jsonPatchDeployment, readDeployment } from '../k8s/deployments.ts';
import { ConflictError, NotFoundError } from '../k8s/errors.ts';
import { jobOutcome } from '../k8s/jobs.ts';
import { annotationPath } from '../k8s/jsonPatch.ts';
import { listAll } from '../k8s/listAll.ts';
import { labelSelectorString } from '../k8s/objectRef.ts';
import { listPods } from '../k8s/pods.ts';
import { pausedByRolloutAnnotation } from '../scaling/annotations.ts';
import { QuietWindowError } from './errors.ts';
import { clip, handOverAt, type RolloutRun } from './run.ts';
import { listConsumerDeployments } from './targets.ts';

/**
 * What the window changed on a CronJob (`{"release","suspend"}`) or a consumer Deployment
 * (`{"release","replicas"}`): written in the same patch as the change, so whichever invocation
 * closes the window (this one, a retry after a crash, a rollback, the shop's next release) restores
 * the values from before it, and nothing depends on a continuation token having been delivered.
 */
export const quietWindowAnnotation = 'rollout.m2-eks-pipeline.io/quiet-window';

/** How often the drain is looked at; pods leave within seconds once their consumer finished its message. */
const drainPollMs = 2000;

interface WindowRecord {
  readonly release: string;
  readonly suspend?: boolean;
  readonly replicas?: number;
}

function recordOf(annotations: Readonly<Record<string, string>> | undefined): WindowRecord | undefined {
  const raw = annotations?.[quietWindowAnnotation];
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<Record<keyof WindowRecord, unknown>>;
    if (typeof value.release !== 'string') return undefined;
    return {
      release: value.release,
      ...(typeof value.suspend === 'boolean' ? { suspend: value.suspend } : {}),
      ...(typeof value.replicas === 'number' && Number.isInteger(value.replicas) && value.replicas >= 0
        ? { replicas: value.replicas }
        : {}),
    };
  } catch {
    // A damaged record names no release: it is left for a person, like a record of no window at all.
    return undefined;
  }
}

/** The first operations of every window write: the resourceVersion precondition and an annotations map. */
const guarded = (object: V1CronJob | V1Deployment): JsonPatchOperation[] => [
  { op: 'add', path: '/metadata/resourceVersion', value: object.metadata?.resourceVersion ?? '' },
  ...(object.metadata?.annotations === undefined
    ? [{ op: 'add' as const, path: '/metadata/annotations', value: {} }]
    : []),
];

/** The objects of the window: the cron CronJobs and every consumer Deployment of the shop. */
async function windowObjects(run: RolloutRun): Promise<{ cron: string[]; consumers: string[] }> {
  const listed = await listConsumerDeployments(run.ports.cluster, run.params.namespace);
  const named = run.params.targets.consumers ?? [];
  return { cron: [...run.params.targets.cron], consumers: [...new Set([...listed, ...named])].sort() };
}

/**
 * Reads, decides and writes one object with a resourceVersion precondition, again from a fresh read
 * after a conflict (the controllers update status all the time). `decide` returns no operations when
 * nothing needs writing.
 */
async function conditionally<T extends V1CronJob | V1Deployment, R>(
  read: () => Promise<T>,
  write: (operations: readonly JsonPatchOperation[]) => Promise<unknown>,
  decide: (object: T) => { operations: JsonPatchOperation[]; result: R },
  maxConflicts = 5,
): Promise<R> {
  for (let conflicts = 0; ; conflicts++) {
    const { operations, result } = decide(await read());
    if (operations.length === 0) return result;
    try {
      await write(operations);
      return result;
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}

/** Suspends a cron CronJob, recording whether it was suspended before. */
function suspendCron(run: RolloutRun, name: string): Promise<void> {
  const { cluster } = run.ports;
  const ref = { namespace: run.params.namespace, name };
  const release = run.state.release;
  return conditionally(
    () => readCronJob(cluster, ref),
    (operations) => jsonPatchCronJob(cluster, ref, operations),
    (cron) => {
      const suspend = cron.spec?.suspend ?? false;
      const record = recordOf(cron.metadata?.annotations);
      if (record?.release === release) {
        if (suspend) return { operations: [], result: undefined };
        throw new QuietWindowError(
          `${ref.namespace}/cronjob/${name} was unsuspended by someone else during the quiet window; ` +
            'the migration does not run beside cron',
        );
      }
      // A record another release left (its close failed) holds the value from before any window.
      const before = record?.suspend ?? suspend;
      return {
        operations: [
          ...guarded(cron),
          {
            op: 'add',
            path: annotationPath(quietWindowAnnotation),
            value: JSON.stringify({ release, suspend: before }),
          },
          { op: 'add', path: '/spec/suspend', value: true },
        ],
        result: undefined,
      };
    },
  );
}

/** Pauses consumerScaler on a consumer Deployment and scales it to 0, recording its replicas. */
function pauseConsumer(run: RolloutRun, name: string): Promise<void> {
  const { cluster } = run.ports;
  const ref = { namespace: run.params.namespace, name };
  const release = run.state.release;
  return conditionally(
    () => readDeployment(cluster, ref),
    (operations) => jsonPatchDeployment(cluster, ref, operations),
    (deployment) => {
      const annotations = deployment.metadata?.annotations ?? {};
      const replicas = deployment.spec?.replicas ?? 1;
      const record = recordOf(annotations);
      if (record?.release === release) {
        if (replicas === 0 && annotations[pausedByRolloutAnnotation] === release) {
          return { operations: [], result: undefined };
        }
        throw new QuietWindowError(
          `${ref.namespace}/deployment/${name} was changed by someone else during the quiet window ` +
            `(replicas ${replicas}, ${pausedByRolloutAnnotation} ${annotations[pausedByRolloutAnnotation] ?? 'removed'}); ` +
            'the migration does not run beside consumers',
        );
      }
      const before = record?.replicas ?? replicas;
      return {
        operations: [
          ...guarded(deployment),
          {
            op: 'add',
            path: annotationPath(quietWindowAnnotation),
            value: JSON.stringify({ release, replicas: before }),
          },
          { op: 'add', path: annotationPath(pausedByRolloutAnnotation), value: release },
          { op: 'replace', path: '/spec/replicas', value: 0 },
        ],
        result: undefined,
      };
    },
  );
}

/** What still runs: the cron CronJobs' unfinished Jobs and the consumers' pods (terminating ones too). */
async function stillRunning(
  run: RolloutRun,
  objects: { cron: string[]; consumers: string[] },
): Promise<string[]> {
  const { cluster } = run.ports;
  const { namespace } = run.params;
  const jobs = await listAll(
    cluster,
    'jobs',
    { namespace, limit: 500 },
    { verb: 'list', resource: 'jobs.batch', namespace, idempotent: true },
  );
  const cronJobs = jobs
    .filter((j) =>
      j.metadata?.ownerReferences?.some((o) => o.kind === 'CronJob' && objects.cron.includes(o.name)),
    )
    .filter((j) => jobOutcome(j) === undefined)
    .map((j) => `job/${j.metadata?.name ?? ''}`);
  const pods: string[] = [];
  for (const name of objects.consumers) {
    const deployment = await readDeployment(cluster, { namespace, name });
    const selector = deployment.spec?.selector;
    if (selector === undefined) continue;
    const found = await listPods(cluster, namespace, labelSelectorString(selector));
    pods.push(...found.map((p) => `pod/${p.metadata?.name ?? ''}`));
  }
  return [...cronJobs, ...pods].sort();
}

/**
 * Opens the quiet migration window Adobe's upgrade guide asks for (no cron, no consumers during
 * `setup:upgrade`): suspends the cron CronJobs, pauses consumerScaler on every consumer Deployment
 * and scales it to 0, then waits until the cron Jobs have finished and the consumers' pods are gone
 * (their preStop hook lets each finish its current message). Safe to repeat: a resumed or retried
 * invocation finds its own records and only waits. 'handed-over' when the invocation must reply
 * first. Throws QuietWindowError naming what still ran `timeoutSeconds` after the window opened, or
 * what someone else resumed meanwhile.
 */
export async function holdQuietWindow(run: RolloutRun): Promise<'quiet' | 'handed-over'> {
  const { now, sleep, log } = run.ports;
  const objects = await windowObjects(run);
  for (const name of objects.cron) await suspendCron(run, name);
  for (const name of objects.consumers) await pauseConsumer(run, name);
  const since = run.state.quietSince ?? now();
  if (run.state.quiet === undefined) {
    run.state = { ...run.state, quiet: 'opening', quietSince: since };
    log.info('quiet window opened', { jobId: run.job.id, cron: objects.cron, consumers: objects.consumers });
  }
  const deadline = since + run.params.timeoutSeconds * 1000;
  for (;;) {
    const running = await stillRunning(run, objects);
    if (running.length === 0) break;
    if (now() >= deadline) {
      throw new QuietWindowError(
        clip(
          `the quiet window did not become quiet within ${run.params.timeoutSeconds} s: still running ` +
            `${running.join(', ')} in ${run.params.namespace}; the migration did not start`,
          400,
        ),
      );
    }
    const pause = Math.min(drainPollMs, deadline - now());
    if (now() + pause >= handOverAt(run)) return 'handed-over';
    await sleep(pause);
  }
  // The migration's own deadline starts once the shop is quiet, not when the drain began.
  run.state = { ...run.state, quiet: 'quiet', phaseStartedAt: now() };
  log.info('quiet window quiet', { jobId: run.job.id, waitedMs: now() - since });
  return 'quiet';
}

/** Restores one cron CronJob from its record; notes what someone else changed meanwhile. */
function resumeCron(run: RolloutRun, name: string, closes: (release: string) => boolean): Promise<string[]> {
  const { cluster } = run.ports;
  const ref = { namespace: run.params.namespace, name };
  return conditionally(
    () => readCronJob(cluster, ref),
    (operations) => jsonPatchCronJob(cluster, ref, operations),
    (cron) => {
      const record = recordOf(cron.metadata?.annotations);
      if (record === undefined || !closes(record.release)) return { operations: [], result: [] };
      const suspend = cron.spec?.suspend ?? false;
      const operations: JsonPatchOperation[] = [
        ...guarded(cron),
        { op: 'remove', path: annotationPath(quietWindowAnnotation) },
      ];
      const notes: string[] = [];
      // Someone else's change wins: only a value still as the window set it is put back.
      if (!suspend) notes.push(`cronjob/${name} was unsuspended by someone else; left unsuspended`);
      else if (record.suspend !== true)
        operations.push({ op: 'replace', path: '/spec/suspend', value: false });
      return { operations, result: notes };
    },
  );
}

/** Restores one consumer Deployment from its record; notes what someone else changed meanwhile. */
function resumeConsumer(
  run: RolloutRun,
  name: string,
  closes: (release: string) => boolean,
): Promise<string[]> {
  const { cluster } = run.ports;
  const ref = { namespace: run.params.namespace, name };
  return conditionally(
    () => readDeployment(cluster, ref),
    (operations) => jsonPatchDeployment(cluster, ref, operations),
    (deployment) => {
      const annotations = deployment.metadata?.annotations ?? {};
      const record = recordOf(annotations);
      if (record === undefined || !closes(record.release)) return { operations: [], result: [] };
      const operations: JsonPatchOperation[] = [
        ...guarded(deployment),
        { op: 'remove', path: annotationPath(quietWindowAnnotation) },
      ];
      const notes: string[] = [];
      const paused = annotations[pausedByRolloutAnnotation];
      if (paused === record.release) {
        operations.push({ op: 'remove', path: annotationPath(pausedByRolloutAnnotation) });
      } else if (paused !== undefined) {
        notes.push(`deployment/${name} is paused by ${paused} now; left paused`);
      }
      const replicas = deployment.spec?.replicas ?? 1;
      if (replicas !== 0)
        notes.push(`deployment/${name} was scaled to ${replicas} by someone else; left at ${replicas}`);
      else if (record.replicas !== undefined && record.replicas !== 0) {
        operations.push({ op: 'replace', path: '/spec/replicas', value: record.replicas });
      }
      return { operations, result: notes };
    },
  );
}

/** Which windows a close restores: this release's, those other releases left behind, or both. */
export type WindowOwner = 'own' | 'left-behind' | 'any';

/**
 * Closes the quiet window: every cron CronJob and consumer Deployment carrying a window record (of
 * `owner`) gets back its `suspend`, its replicas and an unpaused consumerScaler — each value only
 * where it is still as the window set it; a value someone else changed meanwhile is kept and noted.
 * Each object is closed on its own (one that fails does not keep the others closed); the first error
 * is thrown after all were tried, and the records left make the next close finish the job. Returns
 * the notes (also kept, clipped, in the state's quietReport for the verdict).
 */
export async function closeQuietWindow(run: RolloutRun, owner: WindowOwner): Promise<string[]> {
  const release = run.state.release;
  const closes = (recorded: string): boolean =>
    owner === 'any' || (owner === 'own') === (recorded === release);
  const objects = await windowObjects(run);
  const notes: string[] = [];
  let firstError: unknown;
  const each = async (kind: string, name: string, resume: () => Promise<string[]>): Promise<void> => {
    try {
      notes.push(...(await resume()));
    } catch (error) {
      if (error instanceof NotFoundError) return;
      firstError ??= error;
      run.ports.log.warn('quiet window: restore failed', {
        jobId: run.job.id,
        target: `${run.params.namespace}/${kind}/${name}`,
        error: error instanceof Error ? error.name : 'unknown',
      });
    }
  };
  for (const name of objects.cron) await each('cronjob', name, () => resumeCron(run, name, closes));
  for (const name of objects.consumers)
    await each('deployment', name, () => resumeConsumer(run, name, closes));
  if (notes.length > 0) {
    run.ports.log.warn('quiet window closed around changes by someone else', { jobId: run.job.id, notes });
    run.state = {
      ...run.state,
      quietReport: clip([run.state.quietReport, ...notes].filter(Boolean).join('; '), 200),
    };
  }
  if (firstError !== undefined) {
    throw new QuietWindowError(`the quiet window could not be closed: ${messageOf(firstError)}`, {
      cause: firstError,
    });
  }
  if (owner !== 'left-behind' && run.state.quiet !== undefined) run.state = { ...run.state, quiet: 'closed' };
  return notes;
}

/**
 * Closes this release's window when the release ends outside the migrate phase (CodePipeline
 * stopped waiting, an error outside the phases): best effort — a failure is logged, and the records
 * left make the shop's next release close it.
 */
export async function closeQuietWindowAtEnd(run: RolloutRun): Promise<void> {
  if (run.state.quiet !== 'opening' && run.state.quiet !== 'quiet') return;
  try {
    await closeQuietWindow(run, 'own');
  } catch (error) {
    run.ports.log.error('quiet window left open at the end of the release', {
      jobId: run.job.id,
      error: error instanceof Error ? error.name : 'unknown',
    });
  }
}

/** What the verdict says about the window: that it ran and was restored, and what was left as others changed it. */
export function quietWindowReport(state: RolloutRun['state']): string {
  const notes = state.quietReport === undefined ? '' : `: ${state.quietReport}`;
  if (state.quiet === 'closed') {
    return ` The quiet window around the migration (cron suspended, consumers paused at 0 and drained) is closed, both restored${notes}.`;
  }
  if (state.quiet !== undefined) return ` The quiet window is still open${notes}.`;
  return state.quietReport === undefined ? '' : ` Quiet window${notes}.`;
}
