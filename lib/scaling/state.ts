import { z } from 'zod';
import { stateAnnotations } from './annotations.ts';
import type { Decision, ScalerState } from './policy.ts';

const time = z.number().int().nonnegative();
const stateSchema = z.strictObject({
  v: z.literal(1),
  lastReadAt: time.optional(),
  lastActiveAt: time.optional(),
  emptyReads: z.number().int().nonnegative(),
  busyReads: z.number().int().nonnegative(),
  emptySince: time.optional(),
  unreadableReads: z.number().int().nonnegative().optional(),
  peaks: z
    .array(z.strictObject({ replicas: z.number().int().nonnegative(), at: time }))
    .max(1000)
    .optional(),
  lastScaleAt: time.optional(),
});

/** How the state annotation was read. */
export type StateRead =
  | { readonly kind: 'ok'; readonly state: ScalerState; readonly raw: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed'; readonly problem: string; readonly raw: string };

/**
 * Reads the scaler's state from a Deployment's annotations. A missing or malformed annotation
 * (hand-edited, older version) is reported so the caller starts over conservatively.
 */
export function readState(annotations: Readonly<Record<string, string>> | undefined): StateRead {
  const raw = annotations?.[stateAnnotations.state];
  if (raw === undefined) return { kind: 'absent' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { kind: 'malformed', problem: `not JSON (${String(error)})`, raw };
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    return {
      kind: 'malformed',
      problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      raw,
    };
  }
  const { v: _version, ...state } = parsed.data;
  return { kind: 'ok', state, raw };
}

/**
 * The annotations that record a decision: the machine state plus three human-readable ones
 * (`kubectl describe deployment` shows why the scaler did what it did).
 */
export function stateAnnotationsFor(
  decision: Decision,
  previousReplicas: number,
  now: number,
): Record<string, string> {
  const { state } = decision;
  const annotations: Record<string, string> = {
    [stateAnnotations.state]: JSON.stringify({ v: 1, ...state }),
    [stateAnnotations.lastReason]: decision.reason.slice(0, 1000),
  };
  if (state.lastActiveAt !== undefined)
    annotations[stateAnnotations.lastActive] = new Date(state.lastActiveAt).toISOString();
  if (decision.replicas !== previousReplicas) {
    annotations[stateAnnotations.lastScale] =
      `${new Date(now).toISOString()} ${previousReplicas}→${decision.replicas}`;
  }
  return annotations;
}

/**
 * Whether `next` is worth a write: anything the policy decides on changed. The read time alone
 * does not count, and the last-active, last-scale and peak times only when they moved by
 * `resolutionMs` (cooldowns and windows are minutes; rewriting the Deployment on every pass of a
 * busy queue would be noise, and a re-decision after a conflict must not write again).
 */
export function stateChanged(
  previous: ScalerState | undefined,
  next: ScalerState,
  resolutionMs = 15_000,
): boolean {
  if (previous === undefined) return true;
  if (previous.emptyReads !== next.emptyReads || previous.busyReads !== next.busyReads) return true;
  if ((previous.unreadableReads ?? 0) !== (next.unreadableReads ?? 0)) return true;
  const moved = (a: number | undefined, b: number | undefined): boolean =>
    (a === undefined) !== (b === undefined) || Math.abs((a ?? 0) - (b ?? 0)) >= resolutionMs;
  const before = previous.peaks ?? [];
  const after = next.peaks ?? [];
  if (before.length !== after.length) return true;
  if (before.some((p, i) => p.replicas !== after[i]?.replicas || moved(p.at, after[i]?.at))) return true;
  return (
    moved(previous.lastActiveAt, next.lastActiveAt) ||
    moved(previous.lastScaleAt, next.lastScaleAt) ||
    moved(previous.emptySince, next.emptySince)
  );
}
