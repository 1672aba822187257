import type { V1Deployment } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { readDeployment } from '../k8s/deployments.ts';
import { ConflictError } from '../k8s/errors.ts';
import { writeScale } from '../k8s/scale.ts';
import { metricNames } from '../observability/metricNames.ts';
import type { Log, MetricSink } from '../observability/telemetry.ts';
import { pausedByRolloutAnnotation, stateAnnotations } from './annotations.ts';
import { HeldByRolloutError, TooManyConflictsError } from './errors.ts';
import type { EventRecorder } from './eventRecorder.ts';
import { secondsPerMessageFrom, type ThroughputEstimate } from './learnedThroughput.ts';
import { type BudgetCap, budgetNote, capByBudget } from './podBudget.ts';
import {
  type Decision,
  decideReplicas,
  initialState,
  type PolicySettings,
  type QueueReading,
  type ScalerState,
} from './policy.ts';
import { readState, type StateRead, stateAnnotationsFor, stateChanged } from './state.ts';
import { writeScalerState } from './stateWrite.ts';
import type { ScalingBounds, ScalingTarget } from './target.ts';

export interface TargetReconcileDeps {
  readonly cluster: ClusterClient;
  readonly log: Log;
  readonly metrics: MetricSink;
  /** Tells each replica change on the Deployment itself (Events `ScaledUp` / `ScaledDown`). */
  readonly events: EventRecorder;
  readonly now: () => number;
}

/** What one reconcile of one target did. */
export interface TargetOutcome {
  readonly namespace: string;
  readonly deployment: string;
  readonly from: number;
  readonly to: number;
  readonly decision: Decision;
  /** Writes that lost a race and were re-decided. */
  readonly conflicts: number;
}

/**
 * Read – decide – write for one consumer Deployment. Replicas go through the scale subresource
 * with the resourceVersion that was read; then the state annotations are swapped in only if the
 * state is still the one read (see writeScalerState). A conflict on either means another writer
 * (another invocation, a person, the deployment controller) got in between: the Deployment is read
 * again and the decision made again from what that writer left. Readings closer together than
 * the policy's spacing count once, so re-deciding never double-counts an empty reading.
 */
export async function reconcileTarget(
  target: ScalingTarget,
  reading: QueueReading | undefined,
  settings: PolicySettings,
  deps: TargetReconcileDeps,
  maxConflicts = 8,
  cap?: BudgetCap,
): Promise<TargetOutcome> {
  const ref = { namespace: target.namespace, name: target.name };
  let initial: number | undefined;
  for (let conflicts = 0; ; conflicts++) {
    const deployment = await readDeployment(deps.cluster, ref);
    // Paused by a rollout since discovery: its window wins over this pass's decision.
    const heldBy = deployment.metadata?.annotations?.[pausedByRolloutAnnotation];
    if (heldBy !== undefined && heldBy !== '') throw new HeldByRolloutError(target, heldBy);
    const current = deployment.spec?.replicas ?? 1;
    // Reported as the change this reconcile made, even when a retry finds its own write done.
    initial ??= current;
    try {
      const decision = await decideAndWrite(target, deployment, current, { reading, settings, cap }, deps);
      return {
        namespace: target.namespace,
        deployment: target.name,
        from: initial,
        to: decision.replicas,
        decision,
        conflicts,
      };
    } catch (error) {
      await backOffAfterConflict(error, target, conflicts, maxConflicts, deps);
    }
  }
}

/** What one round decides from, besides the Deployment. */
interface DecisionInputs {
  readonly reading: QueueReading | undefined;
  readonly settings: PolicySettings;
  /** The namespace budget's grant, when it is below what the target wanted. */
  readonly cap: BudgetCap | undefined;
}

/**
 * The decision for a Deployment as read, without writing anything: what the policy wants for it
 * (the budget's division needs every consumer's want before any is written).
 */
export async function previewReplicas(
  target: ScalingTarget,
  reading: QueueReading | undefined,
  settings: PolicySettings,
  deps: TargetReconcileDeps,
): Promise<number> {
  const deployment = await readDeployment(deps.cluster, { namespace: target.namespace, name: target.name });
  const current = deployment.spec?.replicas ?? 1;
  const stored = readState(deployment.metadata?.annotations);
  const state = stored.kind === 'ok' ? stored.state : initialState;
  const now = deps.now();
  return decideReplicas({
    bounds: sizingBounds(target, deployment, reading, state, now).bounds,
    settings,
    current,
    reading,
    state,
    now,
  }).replicas;
}

/** One read–decide–write round on the Deployment as read; a lost race throws ConflictError. */
async function decideAndWrite(
  target: ScalingTarget,
  deployment: V1Deployment,
  current: number,
  { reading, settings, cap }: DecisionInputs,
  deps: TargetReconcileDeps,
): Promise<Decision> {
  const ref = { namespace: target.namespace, name: target.name };
  const stored = storedState(target, deployment, deps.log);
  const previous = stored.kind === 'ok' ? stored.state : undefined;
  const now = deps.now();
  const sizing = sizingBounds(target, deployment, reading, previous ?? initialState, now);
  if (sizing.throughput?.kind === 'learned') {
    deps.log.info('learned throughput differs from declared seconds-per-message', {
      namespace: target.namespace,
      deployment: target.name,
      declared: sizing.throughput.declared,
      observed: Math.round(sizing.throughput.observed * 1000) / 1000,
      used: sizing.throughput.secondsPerMessage,
    });
  }
  const wanted = decideReplicas({
    bounds: sizing.bounds,
    settings,
    current,
    reading,
    state: previous ?? initialState,
    now,
  });
  const decision =
    cap === undefined
      ? wanted
      : capByBudget(wanted, {
          current,
          deployment: target.name,
          cap,
          lastScaleAt: previous?.lastScaleAt,
          now,
        });
  if (decision.replicas !== current) {
    await writeScale(deps.cluster, ref, decision.replicas, deployment.metadata?.resourceVersion ?? '');
    await recordScale(target, current, decision, deps);
  }
  if (decision.replicas !== current || stateChanged(previous, decision.state)) {
    await writeScalerState(
      deps.cluster,
      ref,
      stored.kind === 'absent' ? undefined : stored.raw,
      stateAnnotationsFor(decision, current, now),
    );
  }
  if (decision.rule === 'budget' && cap !== undefined) {
    await tellBudget(target, { ...cap, wanted: wanted.replicas }, deps);
  }
  recordTargetGauges(target, decision.replicas, deployment.status?.readyReplicas ?? 0, reading, deps.metrics);
  return decision;
}

/**
 * The bounds to decide with: the declared ones, with `seconds-per-message` replaced by what the
 * pods' own deletes show when the two disagree strongly (learnedThroughput.ts).
 */
function sizingBounds(
  target: ScalingTarget,
  deployment: V1Deployment,
  reading: QueueReading | undefined,
  state: ScalerState,
  now: number,
): { readonly bounds: ScalingBounds; readonly throughput?: ThroughputEstimate } {
  const declared = target.bounds.secondsPerMessage;
  if (declared === undefined || reading === undefined) return { bounds: target.bounds };
  const throughput = secondsPerMessageFrom({
    declaredSecondsPerMessage: declared,
    deletedPerSecond: reading.deletedPerSecond,
    readyPods: deployment.status?.readyReplicas ?? 0,
    visible: reading.visible,
    share: reading.share ?? 1,
    lastScaleAt: state.lastScaleAt,
    now,
  });
  return {
    bounds: { ...target.bounds, secondsPerMessage: throughput.secondsPerMessage },
    throughput,
  };
}

/** The scaler's state as the Deployment carries it; a malformed one is logged and then ignored. */
function storedState(target: ScalingTarget, deployment: V1Deployment, log: Log): StateRead {
  const stored = readState(deployment.metadata?.annotations);
  if (stored.kind === 'malformed') {
    log.warn('scaler state annotation malformed; starting over', {
      namespace: target.namespace,
      deployment: target.name,
      annotation: stateAnnotations.state,
      problem: stored.problem,
    });
  }
  return stored;
}

async function recordScale(
  target: ScalingTarget,
  from: number,
  decision: Decision,
  deps: TargetReconcileDeps,
): Promise<void> {
  const up = decision.replicas > from;
  deps.metrics.count(metricNames.consumerScaler.scaleEvents, 1, { direction: up ? 'up' : 'down' });
  deps.log.info('scaled', {
    namespace: target.namespace,
    deployment: target.name,
    from,
    to: decision.replicas,
    reason: decision.reason,
  });
  await deps.events.record(
    deps.cluster,
    target,
    {
      type: 'Normal',
      reason: up ? 'ScaledUp' : 'ScaledDown',
      message: `scaled ${up ? 'up' : 'down'} from ${from} to ${decision.replicas}: ${decision.reason}`,
    },
    deps.log,
  );
}

/**
 * A Deployment held below its want by the namespace's budget: a Normal Event `HeldByBudget` on every
 * pass it is held (the recorder folds repeats into one Event's count), so `kubectl describe` says why
 * a consumer with a backlog runs fewer pods than its max.
 */
async function tellBudget(target: ScalingTarget, cap: BudgetCap, deps: TargetReconcileDeps): Promise<void> {
  deps.log.info('scaling target held by the namespace budget', {
    namespace: target.namespace,
    deployment: target.name,
    budget: cap.budget,
    granted: cap.granted,
    wanted: cap.wanted,
  });
  await deps.events.record(
    deps.cluster,
    target,
    { type: 'Normal', reason: 'HeldByBudget', message: budgetNote(cap, target.name) },
    deps.log,
  );
}

/**
 * After a lost race: count it and wait a jittered, growing moment before the next round. Anything
 * but a conflict is rethrown, and so is the conflict that exceeds `maxConflicts`.
 */
async function backOffAfterConflict(
  error: unknown,
  target: ScalingTarget,
  conflicts: number,
  maxConflicts: number,
  deps: TargetReconcileDeps,
): Promise<void> {
  if (!(error instanceof ConflictError)) throw error;
  deps.metrics.count(metricNames.consumerScaler.writeConflicts);
  if (conflicts >= maxConflicts) throw new TooManyConflictsError(target, conflicts + 1, { cause: error });
  await deps.cluster.calls.sleep(Math.round(deps.cluster.calls.random() * 50 * (conflicts + 1)));
}

/**
 * What the operator compares per consumer Deployment: desired against Ready replicas, next to the
 * backlog that drove the decision. Emitted on every reconcile, so the dashboard has a point per pass.
 * No backlog while the queue cannot be read (the decision then holds the replicas).
 */
function recordTargetGauges(
  target: ScalingTarget,
  desired: number,
  ready: number,
  reading: QueueReading | undefined,
  metrics: MetricSink,
): void {
  const names = metricNames.consumerScaler;
  const dimensions = { namespace: target.namespace, deployment: target.name };
  metrics.count(names.desiredReplicas, desired, dimensions);
  metrics.count(names.readyReplicas, ready, dimensions);
  if (reading !== undefined)
    metrics.count(names.queueBacklog, reading.visible + reading.inFlight, dimensions);
}
