import { mayContinue, pauseAfterPass, watchForWork } from './idleWatch.ts';
import type { PolicySettings } from './policy.ts';
import { type PassDeps, type PassResult, reconcilePass } from './reconcilePass.ts';

export interface RunSettings {
  readonly selector: string;
  readonly policy: PolicySettings;
  /** Pause between passes while something is active. */
  readonly intervalMs: number;
  /** A full pass must fit between its start and the Lambda timeout. */
  readonly passBudgetMs: number;
  /**
   * No pass or idle read starts later than this into the invocation: the next minute's schedule
   * takes over, and a run never piles onto the next one by more than a pass.
   */
  readonly maxRunMs: number;
  /**
   * While everything is settled, read the queues' depths every this many ms (GetQueueAttributes
   * only) and reconcile at once when one shows work, so a burst on an idle shop is seen within
   * seconds instead of at the next schedule. 0 = stop at the first settled pass.
   */
  readonly idlePollMs: number;
}

export interface RunDeps extends PassDeps {
  /** Time left in this invocation (Lambda's `context.getRemainingTimeInMillis`). */
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** One reconcile of every target; reconcilePass unless a test replaces it. */
  readonly pass?: typeof reconcilePass;
}

/** `idle`: the run ended with every target settled; `time`: it ended while some target was active. */
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
  /** Rounds of idle depth reads between passes. */
  readonly idleReads: number;
}

/**
 * Reconciles every target, then again every `intervalMs` while some target is active, and while
 * all are settled watches their queues every `idlePollMs` (depth reads only) and reconciles as
 * soon as one shows work — until the invocation's minute is used up (`maxRunMs`), when the next
 * schedule takes over.
 */
export async function runScaler(settings: RunSettings, deps: RunDeps): Promise<RunResult> {
  const started = deps.now();
  const changes: RunResult['changes'][number][] = [];
  const clock = () => ({ elapsedMs: deps.now() - started, remainingMs: deps.remainingMs() });
  let idleReads = 0;
  let afterWake = false;
  for (let passes = 1; ; passes++) {
    const last = await (deps.pass ?? reconcilePass)(settings.selector, settings.policy, deps);
    let changed = false;
    for (const o of last.outcomes) {
      if (o.from === o.to) continue;
      changed = true;
      changes.push({ namespace: o.namespace, deployment: o.deployment, from: o.from, to: o.to });
    }
    const done = (): RunResult => ({
      passes,
      stoppedBecause: last.active ? 'time' : 'idle',
      last,
      changes,
      failures: last.failures,
      idleReads,
    });
    if (last.active) {
      const pause = pauseAfterPass(
        { active: true, changed, afterWake },
        settings.intervalMs,
        settings.policy.readSpacingSeconds * 1000,
      );
      afterWake = false;
      if (!mayContinue(clock(), pause, settings)) return done();
      await deps.sleep(pause);
      continue;
    }
    const watch = await watchForWork(
      last.queueUrls,
      { ...settings, includeDelayed: settings.policy.includeDelayed, startedAt: started },
      deps,
    );
    idleReads += watch.rounds;
    if (!watch.woke) return done();
    afterWake = true;
  }
}
