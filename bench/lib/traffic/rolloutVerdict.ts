import type { RolloutResult } from '../../../lib/rollout/executor.ts';

/** One log line of a rollout, with the wall-clock time it was written. */
export interface LogLine {
  readonly at: number;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** What one invocation of the rollout function decided, in the bench's terms. */
export interface RolloutVerdict {
  /** succeeded, caught on preview, rolled back, or the outcome as the function named it. */
  readonly verdict: string;
  /** ms from the first Ready pod of the new image (the preview's, when there is one) to the verdict line. */
  readonly sinceReadyMs?: number;
  /** ms from the invocation's start to 'preview passed': what the preview adds to a good release. */
  readonly previewMs?: number;
}

/** The lines that end a rollout's checks: passed on the new ReplicaSet, or a failed check. */
const verdictLines = new Set(['smoke checks passed', 'smoke check failed', 'rollout phase failed']);

/**
 * Reads the verdict of one rollout from its result and log lines. `startedAt` is when the invocation
 * began, `readyAt` when a pod of the new image was first seen Ready (undefined: never).
 */
export function rolloutVerdictOf(
  result: Pick<RolloutResult, 'outcome' | 'message' | 'failure'>,
  lines: readonly LogLine[],
  startedAt: number,
  readyAt: number | undefined,
): RolloutVerdict {
  const verdict =
    result.outcome === 'succeeded'
      ? 'succeeded'
      : result.outcome !== 'failed'
        ? result.outcome
        : result.failure?.target?.endsWith('-preview') === true
          ? `caught on preview (${result.failure.kind})`
          : /Rolled back/.test(result.message)
            ? `rolled back (${result.failure?.kind ?? 'failure'})`
            : `failed (${result.failure?.kind ?? 'failure'})`;
  // A good release's checks pass twice (preview, then the new ReplicaSet): its verdict is the last pass;
  // a failed one's is the first failed check.
  const ended =
    result.outcome === 'succeeded'
      ? lines.filter((l) => l.message === 'smoke checks passed').at(-1)
      : lines.find((l) => verdictLines.has(l.message) && l.message !== 'smoke checks passed');
  const passed = lines.find((l) => l.message === 'preview passed');
  return {
    verdict,
    ...(readyAt === undefined || ended === undefined ? {} : { sinceReadyMs: ended.at - readyAt }),
    ...(passed === undefined ? {} : { previewMs: passed.at - startedAt }),
  };
}
