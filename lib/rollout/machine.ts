import { RolloutError } from './errors.ts';

/**
 * The rollout's steps as a pure state machine:
 * preflight → migrate → preview → web → consumers → cron → success; a failure before anything was
 * patched (preflight, migrate, preview: the new image ran only in the preview's own pod) ends in
 * failure at once, a failure after goes through rollback first.
 */
export type RolloutPhase =
  | 'preflight'
  | 'migrate'
  | 'preview'
  | 'web'
  | 'consumers'
  | 'cron'
  | 'rollback'
  | 'success'
  | 'failure';

/** How the step of a phase ended. */
export type StepOutcome = 'done' | 'failed';

export const terminalPhases: ReadonlySet<RolloutPhase> = new Set(['success', 'failure']);

const onDone: Readonly<Record<RolloutPhase, RolloutPhase | undefined>> = {
  preflight: 'migrate',
  migrate: 'preview',
  preview: 'web',
  web: 'consumers',
  consumers: 'cron',
  cron: 'success',
  rollback: 'failure',
  success: undefined,
  failure: undefined,
};

const onFailed: Readonly<Record<RolloutPhase, RolloutPhase | undefined>> = {
  // Nothing has been patched yet: there is nothing to roll back.
  preflight: 'failure',
  migrate: 'failure',
  preview: 'failure',
  web: 'rollback',
  consumers: 'rollback',
  cron: 'rollback',
  // A failed rollback is reported as it is; a human takes over.
  rollback: 'failure',
  success: undefined,
  failure: undefined,
};

/**
 * The phase after `phase` ended with `outcome`. Throws for terminal phases (a finished rollout
 * has no next step).
 *
 * @example rolloutStep('web', 'failed') // 'rollback'
 */
export function rolloutStep(phase: RolloutPhase, outcome: StepOutcome): RolloutPhase {
  const next = (outcome === 'done' ? onDone : onFailed)[phase];
  if (next === undefined) throw new RolloutError(`the rollout already ended (${phase})`);
  return next;
}

/** Targets to roll back, in the reverse order they were patched. */
export const rollbackOrder = <T>(patched: readonly T[]): T[] => [...patched].reverse();

/** When the current invocation has to hand over (continuation) instead of starting more work. */
export interface ReplyBudget {
  /** Lambda time left. */
  readonly remainingMs: number;
  /** Time a reply (and a lease renewal) needs at most. */
  readonly marginMs: number;
  /** Time since the last reply to CodePipeline (this invocation's start). */
  readonly sinceReplyMs: number;
  /** Reply at least this often, well inside CodePipeline's 20-minute no-reply timeout. */
  readonly replyEveryMs: number;
}

/** Whether to stop now and reply with a continuation token. */
export const mustHandOver = (b: ReplyBudget): boolean =>
  b.remainingMs <= b.marginMs || b.sinceReplyMs >= b.replyEveryMs;
