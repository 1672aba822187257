import { messageOf } from '../common/messageOf.ts';
import { NotFoundError } from '../k8s/errors.ts';
import { metricNames } from '../observability/metricNames.ts';
import { withFields } from '../observability/telemetry.ts';
import { targetAnnotations } from './annotations.ts';
import { backlogShares } from './backlogShare.ts';
import { discoverTargets } from './discovery.ts';
import { HeldByRolloutError, QueueReadError, type QueueReadFailure } from './errors.ts';
import type { BudgetCap } from './podBudget.ts';
import type { PolicySettings, QueueReading } from './policy.ts';
import type { QueueDepth, QueueMetrics, QueueSignals } from './queueSignals.ts';
import { reconcileTarget, type TargetOutcome, type TargetReconcileDeps } from './reconcileTarget.ts';
import { budgetCaps } from './shopBudget.ts';
import type { ScalingTarget } from './target.ts';
import { oldestAgeNow } from './waitSlo.ts';

export interface PassDeps extends TargetReconcileDeps {
  readonly signals: QueueSignals;
}

/** A target that could not be reconciled this pass (its neighbours were). */
interface TargetFailure {
  readonly namespace: string;
  readonly deployment: string;
  readonly error: string;
}

export interface PassResult {
  readonly targets: number;
  readonly outcomes: readonly TargetOutcome[];
  readonly failures: readonly TargetFailure[];
  /** Some target has work or an unconfirmed change: read again soon. */
  readonly active: boolean;
  /** The queues the targets consume, each once (what the idle watch reads between passes). */
  readonly queueUrls: readonly string[];
}

/** Targets reconciled at once; a cluster has a handful of shops × a few consumers. */
const concurrency = 8;

/**
 * One reconcile of every target: discover, read each queue once (depth from SQS, arrival rates and
 * the age of the oldest message from CloudWatch in one batched call), split a queue's backlog among
 * the Deployments consuming it, then read–decide–write each Deployment. A queue that
 * cannot be read holds its targets (fail-static, or their fallback floor), is counted as
 * `QueueReadErrors{reason}` and told on each held Deployment as an Event;
 * a target whose write fails is reported and does not stop the others.
 */
export async function reconcilePass(
  selector: string,
  settings: PolicySettings,
  deps: PassDeps,
): Promise<PassResult> {
  const targets = await discoverTargets(deps.cluster, selector, deps);
  const queueUrls = [...new Set(targets.map((t) => t.queueUrl))];
  const [metrics, depths] = await Promise.all([
    deps.signals.readQueueMetrics(queueUrls),
    Promise.all(queueUrls.map(async (url) => [url, await readDepthOrFailure(url, deps)] as const)),
  ]);
  const depthByUrl = new Map<string, QueueDepth | undefined>();
  const failureByUrl = new Map<string, QueueReadFailure>();
  for (const [url, read] of depths) {
    if (read.kind === 'depth') depthByUrl.set(url, read.depth);
    else failureByUrl.set(url, read.failure);
  }
  const shares = shareOfEachTarget(targets, depthByUrl, settings);

  const readingFor = (target: ScalingTarget): QueueReading | undefined => {
    const depth = depthByUrl.get(target.queueUrl);
    const share = shares.get(target) ?? 1;
    return depth === undefined
      ? undefined
      : readingOf(depth, metrics.get(target.queueUrl), share, deps.now());
  };
  const caps = await budgetCaps(targets, readingFor, settings, deps);

  const outcomes: TargetOutcome[] = [];
  const failures: TargetFailure[] = [];
  await forEachLimited(targets, concurrency, async (target) => {
    const reading = readingFor(target);
    // Targets run concurrently: each gets its own correlation fields instead of keys on the shared logger.
    const log = withFields(deps.log, {
      namespace: target.namespace,
      deployment: target.name,
      queue: target.queueUrl,
    });
    try {
      const outcome = await reconcileUnlessHeld(target, reading, settings, caps.get(target), {
        ...deps,
        log,
      });
      if (outcome === undefined) return;
      outcomes.push(outcome);
      const failure = failureByUrl.get(target.queueUrl);
      if (failure !== undefined) await tellUnreadable(target, failure, outcome, { ...deps, log });
    } catch (error) {
      failures.push(failureOf(target, error, { ...deps, log }));
      await tellFailed(target, error, { ...deps, log });
    }
  });
  return {
    targets: targets.length,
    outcomes,
    failures,
    active: outcomes.some((o) => o.decision.active),
    queueUrls,
  };
}

/** One target's reading: the queue's depth, its CloudWatch minute and the target's share of it. */
function readingOf(
  depth: QueueDepth,
  metrics: QueueMetrics | undefined,
  share: number,
  now: number,
): QueueReading {
  const rate = metrics?.arrivalsPerSecond;
  const age = metrics?.oldestMessageAge;
  const deleted = metrics?.deletedPerSecond;
  return {
    ...depth,
    ...(rate === undefined ? {} : { arrivalsPerSecond: rate }),
    ...(deleted === undefined ? {} : { deletedPerSecond: deleted }),
    ...(age === undefined ? {} : { oldestAgeSeconds: oldestAgeNow(age, now, depth.visible) }),
    ...(share === 1 ? {} : { share }),
  };
}

/** Reconciles one target; undefined when a rollout paused it since discovery (nothing written). */
async function reconcileUnlessHeld(
  target: ScalingTarget,
  reading: QueueReading | undefined,
  settings: PolicySettings,
  cap: BudgetCap | undefined,
  deps: TargetReconcileDeps,
): Promise<TargetOutcome | undefined> {
  try {
    return await reconcileTarget(target, reading, settings, deps, undefined, cap);
  } catch (error) {
    if (!(error instanceof HeldByRolloutError)) throw error;
    deps.log.info('scaling target held by a rollout', { release: error.release });
    return undefined;
  }
}

/**
 * Each target's fraction of its queue's backlog: several Deployments on one queue share it
 * (backlogShare.ts) instead of each sizing itself to all of it.
 */
function shareOfEachTarget(
  targets: readonly ScalingTarget[],
  depthByUrl: ReadonlyMap<string, QueueDepth | undefined>,
  settings: PolicySettings,
): Map<ScalingTarget, number> {
  const byQueue = new Map<string, ScalingTarget[]>();
  for (const t of targets) byQueue.set(t.queueUrl, [...(byQueue.get(t.queueUrl) ?? []), t]);
  const shares = new Map<ScalingTarget, number>();
  for (const [url, consumers] of byQueue) {
    const depth = depthByUrl.get(url);
    if (depth === undefined || consumers.length === 1) continue;
    const backlog = depth.visible + depth.inFlight + (settings.includeDelayed ? depth.delayed : 0);
    backlogShares(consumers, backlog).forEach((share, i) => {
      const consumer = consumers[i];
      if (consumer !== undefined) shares.set(consumer, share);
    });
  }
  return shares;
}

type DepthRead =
  | { readonly kind: 'depth'; readonly depth: QueueDepth }
  | { readonly kind: 'failed'; readonly failure: QueueReadFailure };

async function readDepthOrFailure(queueUrl: string, deps: PassDeps): Promise<DepthRead> {
  try {
    return { kind: 'depth', depth: await deps.signals.readDepth(queueUrl) };
  } catch (error) {
    const failure = error instanceof QueueReadError ? error.failure : 'unavailable';
    deps.log.error('queue depth unreadable; holding its targets', {
      queue: queueUrl,
      failure,
      error: messageOf(error),
    });
    deps.metrics.count(metricNames.consumerScaler.queueReadErrors, 1, { reason: failure });
    return { kind: 'failed', failure };
  }
}

/**
 * A target held (or raised to its fallback floor) because its queue could not be read: a log line
 * and a Warning Event `QueueUnreadable` on the Deployment, both naming the annotation to check, so
 * a typo or a missing permission is not a silent freeze.
 */
async function tellUnreadable(
  target: ScalingTarget,
  failure: QueueReadFailure,
  outcome: TargetOutcome,
  deps: PassDeps,
): Promise<void> {
  const annotation = targetAnnotations.queueUrl;
  deps.log.warn('scaling target held: queue unreadable', {
    namespace: target.namespace,
    deployment: target.name,
    annotation,
    queue: target.queueUrl,
    failure,
    replicas: outcome.to,
    rule: outcome.decision.rule,
  });
  await deps.events.record(
    deps.cluster,
    target,
    {
      type: 'Warning',
      reason: 'QueueUnreadable',
      message: `queue ${target.queueUrl} (annotation ${annotation}) could not be read: ${failureText[failure]}; ${outcome.decision.reason}`,
    },
    deps.log,
  );
}

const failureText: Readonly<Record<QueueReadFailure, string>> = {
  'not-found': 'not-found (no such queue: deleted, or a typo in the URL)',
  denied: "denied (the function's IAM role may not read it: shopQueueNamePattern, or the queue's KMS key)",
  throttled: 'throttled',
  unavailable: 'unavailable',
};

function failureOf(target: ScalingTarget, error: unknown, deps: PassDeps): TargetFailure {
  const name = error instanceof Error ? error.name : 'Error';
  const message = messageOf(error);
  deps.log.error('reconcile failed', {
    namespace: target.namespace,
    deployment: target.name,
    error: name,
    message,
  });
  deps.metrics.count(metricNames.consumerScaler.targetErrors, 1, { reason: name });
  return { namespace: target.namespace, deployment: target.name, error: `${name}: ${message}` };
}

/**
 * A target whose reconcile failed (its scale write refused, the apiserver erring after retries…): a
 * Warning Event `ReconcileFailed` naming the error, so `kubectl describe` shows why its replicas
 * stayed where they are, next to the TargetErrors metric. None for a Deployment that is gone.
 */
async function tellFailed(target: ScalingTarget, error: unknown, deps: PassDeps): Promise<void> {
  if (error instanceof NotFoundError) return;
  const name = error instanceof Error ? error.name : 'Error';
  await deps.events.record(
    deps.cluster,
    target,
    {
      type: 'Warning',
      reason: 'ReconcileFailed',
      message: `not reconciled: ${name}: ${messageOf(error)}; replicas left as they are, the next pass tries again`,
    },
    deps.log,
  );
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
