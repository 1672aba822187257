import type { Decision } from './policy.ts';

/**
 * A shop-wide consumer pod budget (namespace annotation `consumer-pod-budget`), divided among the
 * shop's consumer Deployments by their `priority`: every pod a consumer holds is a database
 * connection web may need, so a 10,000-product import must not take them all.
 */

/** What one consumer asks of the budget. */
export interface BudgetClaim {
  /** Higher is served first; equal priorities share. */
  readonly priority: number;
  /** The replicas its own decision wants. */
  readonly want: number;
}

/**
 * Replicas granted to each claim, in the order given; they sum to at most `budget`. Priorities are
 * served highest first, each claim of a level in full while the budget lasts; the first level that
 * does not fit shares what is left in proportion to its wants (largest remainder, ties to the earlier
 * claim, so the split is stable across passes), and lower levels get nothing. Strict rather than
 * weighted: the point of a priority is that the import waits while web-facing consumers are served.
 *
 * @example divideBudget(12, [{ priority: 10, want: 4 }, { priority: 0, want: 20 }]) // [4, 8]
 */
export function divideBudget(budget: number, claims: readonly BudgetClaim[]): number[] {
  const grants = claims.map(() => 0);
  const levels = [...new Set(claims.map((c) => c.priority))].sort((a, b) => b - a);
  let left = Math.max(0, Math.floor(budget));
  for (const priority of levels) {
    const members = claims.flatMap((c, index) => (c.priority === priority ? [{ index, want: c.want }] : []));
    const wanted = members.reduce((sum, m) => sum + Math.max(0, m.want), 0);
    if (wanted <= left) {
      for (const m of members) grants[m.index] = Math.max(0, m.want);
      left -= wanted;
      continue;
    }
    shareProportionally(left, members, wanted).forEach((grant, k) => {
      const member = members[k];
      if (member !== undefined) grants[member.index] = grant;
    });
    break;
  }
  return grants;
}

/** `pods` split in proportion to the wants (Hamilton's largest-remainder method). */
function shareProportionally(
  pods: number,
  members: readonly { readonly want: number }[],
  wanted: number,
): number[] {
  const exact = members.map((m) => (pods * Math.max(0, m.want)) / wanted);
  const grants = exact.map(Math.floor);
  let spare = pods - grants.reduce((sum, g) => sum + g, 0);
  const byRemainder = exact
    .map((e, k) => ({ k, remainder: e - Math.floor(e) }))
    .sort((a, b) => b.remainder - a.remainder || a.k - b.k);
  for (const { k } of byRemainder) {
    if (spare <= 0) break;
    grants[k] = (grants[k] ?? 0) + 1;
    spare--;
  }
  return grants;
}

/** A consumer's grant from its namespace's budget, when it got less than it wanted. */
export interface BudgetCap {
  /** The namespace's consumer pod budget. */
  readonly budget: number;
  readonly granted: number;
  readonly wanted: number;
}

/** What the Event on a Deployment held below its want says. */
export const budgetNote = (cap: BudgetCap, deployment: string): string =>
  `budget ${cap.budget} pods: ${deployment} gets ${cap.granted} of ${cap.wanted} wanted`;

/**
 * A decision held to the Deployment's grant: never more replicas than granted (a scale-down if it
 * runs more), rule `budget`. A decision at or below the grant is returned as it is. `lastScaleAt`
 * is the decision's only when the replicas still change, else what was remembered before.
 *
 * @example capByBudget(decision, { current: 3, deployment: 'm2-consumer-product-updates', cap, lastScaleAt, now })
 */
export function capByBudget(
  decision: Decision,
  context: {
    readonly current: number;
    readonly deployment: string;
    readonly cap: BudgetCap;
    readonly lastScaleAt: number | undefined;
    readonly now: number;
  },
): Decision {
  const { current, cap, now } = context;
  if (decision.replicas <= cap.granted) return decision;
  const replicas = cap.granted;
  const kind = replicas > current ? 'up' : replicas < current ? 'down' : 'hold';
  const { lastScaleAt: _decided, ...rest } = decision.state;
  const lastScaleAt = replicas === current ? context.lastScaleAt : now;
  return {
    ...decision,
    replicas,
    kind,
    rule: 'budget',
    reason: `${decision.reason}; held at ${replicas} by the ${budgetNote({ ...cap, wanted: decision.replicas }, context.deployment)}`,
    state: { ...rest, ...(lastScaleAt === undefined ? {} : { lastScaleAt }) },
  };
}
