import { messageOf } from '../common/messageOf.ts';
import type { Log } from '../observability/telemetry.ts';
import type { QueueDepth, QueueSignals } from './queueSignals.ts';

/** Where an invocation is in its minute, for deciding whether another pass or read still fits. */
export interface RunClock {
  /** Since the invocation started. */
  readonly elapsedMs: number;
  /** Lambda's `getRemainingTimeInMillis`. */
  readonly remainingMs: number;
}

export interface RunLimits {
  /** No pass or read starts later than this into the invocation (the next schedule takes over). */
  readonly maxRunMs: number;
  /** What a full pass may take: it must still fit before the Lambda timeout. */
  readonly passBudgetMs: number;
}

/**
 * Whether the run may pause `pauseMs` and then start another pass or read: it must start by
 * `maxRunMs` (the next minute's invocation covers what follows) and leave a whole pass before the
 * Lambda timeout, since a read that finds work is followed by a pass at once.
 */
export function mayContinue(clock: RunClock, pauseMs: number, limits: RunLimits): boolean {
  return clock.elapsedMs + pauseMs <= limits.maxRunMs && clock.remainingMs - pauseMs >= limits.passBudgetMs;
}

/** Whether one idle read shows something a full reconcile must look at. */
export function depthHasWork(depth: QueueDepth, includeDelayed: boolean): boolean {
  return depth.visible + depth.inFlight + (includeDelayed ? depth.delayed : 0) > 0;
}

/** What the previous pass left, for pacing the next one. */
export interface PassPace {
  readonly active: boolean;
  /** Some replica count changed in it. */
  readonly changed: boolean;
  /** It ran because the idle watch saw work (a wake-up), not on the run's own cadence. */
  readonly afterWake: boolean;
}

/**
 * The pause before the next pass. A wake-up pass that changed nothing is waiting for its second
 * consistent reading (a backlog smaller than one pod's share, from zero): that reading counts as
 * soon as it is `readSpacingMs` after the first, so it comes then instead of a whole interval
 * later. Otherwise the run's interval.
 */
export function pauseAfterPass(pace: PassPace, intervalMs: number, readSpacingMs: number): number {
  return pace.active && pace.afterWake && !pace.changed ? Math.min(intervalMs, readSpacingMs) : intervalMs;
}

export interface IdleWatchDeps {
  readonly signals: QueueSignals;
  readonly log: Log;
  readonly now: () => number;
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface IdleWatchSettings extends RunLimits {
  readonly idlePollMs: number;
  readonly includeDelayed: boolean;
  /** When the invocation started (`deps.now()` clock). */
  readonly startedAt: number;
}

/** How an idle watch ended: a queue showed work, or the invocation's time for reads ran out. */
export interface IdleWatchResult {
  readonly woke: boolean;
  /** Rounds of reads (one GetQueueAttributes per queue each). */
  readonly rounds: number;
}

/**
 * While every target is settled, reads only the queues' depths (GetQueueAttributes, no Kubernetes
 * call) every `idlePollMs` until one shows work or the invocation's minute is used up. A burst on an
 * idle shop is thus seen within one poll plus SQS's own lag, instead of at the next schedule. A read
 * that fails is skipped: the next full pass (a minute later at most) reports it as QueueReadErrors.
 */
export async function watchForWork(
  queueUrls: readonly string[],
  settings: IdleWatchSettings,
  deps: IdleWatchDeps,
): Promise<IdleWatchResult> {
  let rounds = 0;
  if (queueUrls.length === 0 || settings.idlePollMs <= 0) return { woke: false, rounds };
  const clock = (): RunClock => ({
    elapsedMs: deps.now() - settings.startedAt,
    remainingMs: deps.remainingMs(),
  });
  while (mayContinue(clock(), settings.idlePollMs, settings)) {
    await deps.sleep(settings.idlePollMs);
    rounds++;
    const reads = await Promise.all(queueUrls.map((url) => readQuietly(url, deps)));
    const busy = queueUrls.find((_, i) => {
      const depth = reads[i];
      return depth !== undefined && depthHasWork(depth, settings.includeDelayed);
    });
    if (busy !== undefined) {
      deps.log.info('idle watch saw work', { queue: busy, rounds });
      return { woke: true, rounds };
    }
  }
  return { woke: false, rounds };
}

async function readQuietly(queueUrl: string, deps: IdleWatchDeps): Promise<QueueDepth | undefined> {
  try {
    return await deps.signals.readDepth(queueUrl);
  } catch (error) {
    deps.log.debug('idle watch read failed; the next pass reports it', {
      queue: queueUrl,
      error: messageOf(error),
    });
    return undefined;
  }
}
