import { quantile } from '../stats.ts';
import type { RequestRecord } from './requestRecorder.ts';

/** Whether a request failed: no response, or a response a shopper would see as broken (5xx, 4xx). */
export const isFailed = (record: RequestRecord): boolean =>
  record.outcome.kind === 'error' || (record.outcome.kind === 'response' && record.outcome.status >= 400);

/** One second of a run, by the time requests were sent. */
export interface TimelineSecond {
  /** Seconds since the run started (0 = [0 s, 1 s)). */
  readonly second: number;
  readonly sent: number;
  readonly failed: number;
}

/**
 * Requests sent and requests failed per second of a run, by start time; seconds without a request
 * are listed too (with zeros), so a gap shows as a gap.
 */
export function timeline(records: readonly RequestRecord[]): TimelineSecond[] {
  const last = Math.max(-1, ...records.map((r) => Math.floor(r.startMs / 1000)));
  const seconds = Array.from({ length: last + 1 }, (_, second) => ({ second, sent: 0, failed: 0 }));
  for (const record of records) {
    const bucket = seconds[Math.floor(record.startMs / 1000)];
    if (bucket === undefined) continue;
    bucket.sent += 1;
    if (isFailed(record)) bucket.failed += 1;
  }
  return seconds;
}

/** What a run comes to. */
export interface LoadSummary {
  /** Requests sent. */
  readonly requests: number;
  /** Answered with a status below 400. */
  readonly served: number;
  /** Answered with 4xx/5xx or not answered at all (timeouts, connection errors). */
  readonly failed: number;
  /** In flight when the run was stopped: neither served nor failed. */
  readonly unfinished: number;
  /** Written by autocannon after the server announced `Connection: close` (see RequestOutcome). */
  readonly discarded: number;
  /** Failed requests by status code or error reason, e.g. `{ "500": 12, "ECONNRESET": 1 }`. */
  readonly failures: Readonly<Record<string, number>>;
  /** Latency of answered requests (any status), ms; undefined when none was answered. */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Start of the first and end of the last failed request, ms since the run started. */
  readonly firstFailureMs: number | undefined;
  readonly lastFailureMs: number | undefined;
}

const failureKey = (record: RequestRecord): string =>
  record.outcome.kind === 'response'
    ? String(record.outcome.status)
    : record.outcome.kind === 'error'
      ? record.outcome.reason
      : record.outcome.kind;

/** Counts and latency percentiles of a run's records. */
export function summarize(records: readonly RequestRecord[]): LoadSummary {
  const failed = records.filter(isFailed);
  const failures: Record<string, number> = {};
  for (const record of failed) failures[failureKey(record)] = (failures[failureKey(record)] ?? 0) + 1;
  const answered = records.flatMap((r) => (r.outcome.kind === 'response' ? [r.endMs - r.startMs] : []));
  const unfinished = records.filter((r) => r.outcome.kind === 'unfinished').length;
  const discarded = records.filter((r) => r.outcome.kind === 'discarded').length;
  return {
    requests: records.length,
    served: records.length - failed.length - unfinished - discarded,
    failed: failed.length,
    unfinished,
    discarded,
    failures,
    p50Ms: answered.length === 0 ? undefined : quantile(answered, 0.5),
    p99Ms: answered.length === 0 ? undefined : quantile(answered, 0.99),
    firstFailureMs: failed.length === 0 ? undefined : Math.min(...failed.map((r) => r.startMs)),
    lastFailureMs: failed.length === 0 ? undefined : Math.max(...failed.map((r) => r.endMs)),
  };
}
