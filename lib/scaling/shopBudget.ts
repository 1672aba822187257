import { messageOf } from '../common/messageOf.ts';
import { readNamespace } from '../k8s/namespaces.ts';
import { namespaceAnnotations } from './annotations.ts';
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
 * protects the database, but a missing read must not freeze every consumer of the shop.
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
    const budget = await podBudgetOf(namespace, deps);
    if (budget === undefined) continue;
    const members = targets
      .filter((t) => t.namespace === namespace)
      .sort((a, b) => a.name.localeCompare(b.name));
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

/** The namespace's `consumer-pod-budget`, or undefined when it declares none (or none readable). */
async function podBudgetOf(namespace: string, deps: TargetReconcileDeps): Promise<number | undefined> {
  const annotation = namespaceAnnotations.consumerPodBudget;
  let raw: string | undefined;
  try {
    raw = (await readNamespace(deps.cluster, namespace)).metadata?.annotations?.[annotation];
  } catch (error) {
    deps.log.warn('namespace budget unreadable; its consumers are not budgeted this pass', {
      namespace,
      annotation,
      error: messageOf(error),
    });
    return undefined;
  }
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > maxBudget) {
    deps.log.warn('namespace budget malformed; its consumers are not budgeted', {
      namespace,
      annotation,
      problem: `must be a whole number from 0 to ${maxBudget}, not "${raw}"`,
    });
    return undefined;
  }
  return Number(raw);
}
