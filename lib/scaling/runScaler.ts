import type { PolicySettings } from './policy.ts';
import { type PassDeps, type PassResult, reconcilePass } from './reconcilePass.ts';

export interface RunSettings {
  readonly selector: string;
  readonly policy: PolicySettings;
  /** Pause between passes while something is active. */
  readonly intervalMs: number;
  /** Stop when less than this is left of the invocation after the next pause (a pass must fit). */
  readonly passBudgetMs: number;
  /** Never run longer than this, whatever the Lambda timeout (keeps schedule invocations from piling up). */
  readonly maxRunMs: number;
  /**
   * Keep reconciling every `intervalMs` for the whole run even when everything is idle, so a
   * burst on an idle queue is seen within one interval instead of at the next schedule (costs
   * about 50 s of Lambda time per minute).
   */
  readonly pollWhenIdle: boolean;
}

export interface RunDeps extends PassDeps {
  /** Time left in this invocation (Lambda's `context.getRemainingTimeInMillis`). */
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** One reconcile of every target; reconcilePass unless a test replaces it. */
  readonly pass?: typeof reconcilePass;
}

type StopReason = 'idle' | 'time';

/** What one invocation did, summed over its passes. */
export interface RunResult {
  readonly passes: number;
  readonly stoppedBecause: StopReason;
  readonly last: PassResult;
  /** Replica changes over all passes. */
  readonly changes: readonly {
    readonly namespace: string;
    readonly deployment: string;
    readonly from: number;
    readonly to: number;
  }[];
  /** Targets that failed in the last pass. */
  readonly failures: PassResult['failures'];
}

/**
 * Reconciles every target, then again every `intervalMs` while some target is active and time
 * remains, so a burst is followed within seconds rather than at the next minute's schedule.
 * Stops early when everything is settled (no backlog anywhere, nothing waiting for confirmation),
 * unless `pollWhenIdle`.
 */
export async function runScaler(settings: RunSettings, deps: RunDeps): Promise<RunResult> {
  const started = deps.now();
  const changes: RunResult['changes'][number][] = [];
  for (let passes = 1; ; passes++) {
    const last = await (deps.pass ?? reconcilePass)(settings.selector, settings.policy, deps);
    for (const o of last.outcomes) {
      if (o.from !== o.to)
        changes.push({ namespace: o.namespace, deployment: o.deployment, from: o.from, to: o.to });
    }
    const done = (stoppedBecause: StopReason): RunResult => ({
      passes,
      stoppedBecause,
      last,
      changes,
      failures: last.failures,
    });
    if (!last.active && !settings.pollWhenIdle) return done('idle');
    const elapsed = deps.now() - started;
    const left = Math.min(deps.remainingMs(), settings.maxRunMs - elapsed);
    if (left < settings.intervalMs + settings.passBudgetMs) return done('time');
    await deps.sleep(settings.intervalMs);
  }
}
