import { messageOf } from '../common/messageOf.ts';
import { readNamespace } from '../k8s/namespaces.ts';
import { namespaceAnnotations } from './annotations.ts';
import type { ScalerEvent } from './eventRecorder.ts';
import { type BudgetCap, divideBudget } from './podBudget.ts';
import type { PolicySettings, QueueReading } from './policy.ts';
import { previewReplicas, type TargetReconcileDeps } from './reconcileTarget.ts';
import type { ScalingTarget } from './target.ts';

/** Beyond this a budget is a typo, not a plan (1000 replicas × a shop's handful of consumers). */
const maxBudget = 10_000;

/**
 * Each budgeted target's grant, for the namespaces that declare `consumer-pod-budget`: the wants of
 * all their targets (each one's own decision, previewed without writing) divided by priority
 * (podBudget.ts). Targets of namespaces without a budget are absent. A namespace that cannot be read,
 * or whose budget is malformed, is logged naming the annotation and left unbudgeted: the budget
 * protects the database, but a missing read must not freeze every consumer of the shop. Each of its
 * consumer Deployments also gets a Warning Event (`BudgetUnreadable`, `BudgetInvalid`): Events about
 * a Namespace land in `default`, which `kubectl describe deployment` never shows and the scaler's
 * RBAC and admission policy do not allow.
 */
export async function budgetCaps(
  targets: readonly ScalingTarget[],
  readingOf: (target: ScalingTarget) => QueueReading | undefined,
  settings: PolicySettings,
  deps: TargetReconcileDeps,
): Promise<Map<ScalingTarget, BudgetCap>> {
  const caps = new Map<ScalingTarget, BudgetCap>();
  const namespaces = [...new Set(targets.map((t) => t.namespace))];
  for (const namespace of namespaces) {
    const members = targets
      .filter((t) => t.namespace === namespace)
      .sort((a, b) => a.name.localeCompare(b.name));
    const budget = await podBudgetOf(namespace, members, deps);
    if (budget === undefined) continue;
    const wants = await Promise.all(members.map((t) => wantOf(t, readingOf(t), settings, deps)));
    const grants = divideBudget(
      budget,
      members.map((t, i) => ({ priority: t.priority ?? 0, want: wants[i] ?? 0 })),
    );
    members.forEach((t, i) => {
      caps.set(t, { budget, granted: grants[i] ?? 0, wanted: wants[i] ?? 0 });
    });
  }
  return caps;
}

/** A target's own want; its max when the Deployment cannot be read (it counts against the budget). */
async function wantOf(
  target: ScalingTarget,
  reading: QueueReading | undefined,
  settings: PolicySettings,
  deps: TargetReconcileDeps,
): Promise<number> {
  try {
    return await previewReplicas(target, reading, settings, deps);
  } catch (error) {
    deps.log.warn('budget: want unknown, counted at max-replicas', {
      namespace: target.namespace,
      deployment: target.name,
      error: messageOf(error),
    });
    return target.bounds.maxReplicas;
  }
}

/** A `consumer-pod-budget` value as written: its number, or what is wrong with it. */
type BudgetParse =
  | { readonly ok: true; readonly budget: number }
  | { readonly ok: false; readonly problem: string };

export function parseBudget(raw: string): BudgetParse {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > maxBudget) {
    return { ok: false, problem: `must be a whole number from 0 to ${maxBudget}, not "${raw}"` };
  }
  return { ok: true, budget: Number(raw) };
}

/** Why a namespace's budget is not applied this pass, for its consumers' Events. */
type BudgetIgnored =
  | { readonly kind: 'invalid'; readonly problem: string }
  | { readonly kind: 'unreadable'; readonly error: string };

/**
 * The Warning Event told on each consumer of a namespace whose budget is ignored. The message is
 * the same every pass while the cause is (the recorder folds repeats into one Event's count).
 */
export function budgetIgnoredEvent(namespace: string, ignored: BudgetIgnored): ScalerEvent {
  const annotation = namespaceAnnotations.consumerPodBudget;
  return ignored.kind === 'invalid'
    ? {
        type: 'Warning',
        reason: 'BudgetInvalid',
        message: `annotation ${annotation} on namespace ${namespace} ${ignored.problem}; scaled without the shop's pod budget until it is fixed`,
      }
    : {
        type: 'Warning',
        reason: 'BudgetUnreadable',
        message: `namespace ${namespace} could not be read for annotation ${annotation} (${ignored.error}); scaled without the shop's pod budget this pass`,
      };
}

/**
 * The namespace's `consumer-pod-budget`, or undefined when it declares none (or none usable: then
 * logged once, naming the namespace, the annotation and the consumers, and told on each consumer).
 */
async function podBudgetOf(
  namespace: string,
  members: readonly ScalingTarget[],
  deps: TargetReconcileDeps,
): Promise<number | undefined> {
  const annotation = namespaceAnnotations.consumerPodBudget;
  const deployments = members.map((t) => t.name);
  let raw: string | undefined;
  try {
    raw = (await readNamespace(deps.cluster, namespace)).metadata?.annotations?.[annotation];
  } catch (error) {
    deps.log.warn('namespace budget unreadable; its consumers are not budgeted this pass', {
      namespace,
      annotation,
      deployments,
      error: messageOf(error),
    });
    await tellIgnored(namespace, members, { kind: 'unreadable', error: messageOf(error) }, deps);
    return undefined;
  }
  if (raw === undefined) return undefined;
  const parsed = parseBudget(raw);
  if (!parsed.ok) {
    deps.log.warn('namespace budget malformed; its consumers are not budgeted', {
      namespace,
      annotation,
      deployments,
      problem: parsed.problem,
    });
    await tellIgnored(namespace, members, { kind: 'invalid', problem: parsed.problem }, deps);
    return undefined;
  }
  return parsed.budget;
}

async function tellIgnored(
  namespace: string,
  members: readonly ScalingTarget[],
  ignored: BudgetIgnored,
  deps: TargetReconcileDeps,
): Promise<void> {
  const event = budgetIgnoredEvent(namespace, ignored);
  await Promise.all(members.map((t) => deps.events.record(deps.cluster, t, event, deps.log)));
}
