/**
 * Storefront load around one release (the real-node lane): the bounded load generator of
 * bench:traffic (autocannon, every request recorded) sends storefront requests through the shop's
 * Service for a steady baseline before the release's first CodePipeline job, throughout the release,
 * and for a tail after it (the old pods' graceful shutdown happens after the rollout reports), and the
 * figures are put on the release's clock so the report can plot them beside available replicas.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type LoadHandle, type LoadRun, startLoad } from '../../bench/lib/traffic/loadGenerator.ts';
import type { RequestRecord } from '../../bench/lib/traffic/requestRecorder.ts';
import { storefrontPaths } from '../../bench/lib/traffic/storefrontPaths.ts';
import { isFailed, type LoadSummary, summarize } from '../../bench/lib/traffic/timeline.ts';

/** One second of the load on the release's clock, by the time requests were sent. */
export interface TrafficSecond {
  /** Start of the second, s since the release's first job (negative: the baseline before it). */
  readonly atS: number;
  readonly sent: number;
  /** Answered below 400. */
  readonly served: number;
  /** Answered 4xx/5xx or not answered at all (timeout, refused, reset): what a shopper sees as broken. */
  readonly failed: number;
}

/** What the storefront saw during one release. */
export interface ReleaseTraffic {
  /** The Service the requests went to, e.g. `http://10.96.0.17:80`. */
  readonly target: string;
  /** Requests per second asked of the generator. */
  readonly rate: number;
  readonly endedBy: LoadRun['endedBy'];
  readonly summary: LoadSummary;
  readonly seconds: readonly TrafficSecond[];
  /** Every failed request, on the release's clock (ms since its first job). */
  readonly failedRequests: readonly RequestRecord[];
}

/**
 * Puts a finished load run on the release's clock: `originMs` (epoch ms) is the release's first job.
 * Every second from the first request sent to the last is listed, with zeros where nothing was sent,
 * so a stall of the generator shows as a gap and not as a smooth line.
 *
 * @example trafficFigures(run, jobStartedAt, { target: 'http://10.96.0.17:80', rate: 20 }).summary.failed
 */
export function trafficFigures(
  run: LoadRun,
  originMs: number,
  load: { readonly target: string; readonly rate: number },
): ReleaseTraffic {
  const offsetMs = run.startedAt - originMs;
  const onRelease = run.records.map((r) => ({
    ...r,
    startMs: r.startMs + offsetMs,
    endMs: r.endMs + offsetMs,
  }));
  const secondOf = (r: RequestRecord) => Math.floor(r.startMs / 1000);
  const first = Math.min(...onRelease.map(secondOf));
  const last = Math.max(...onRelease.map(secondOf));
  const seconds =
    onRelease.length === 0
      ? []
      : Array.from({ length: last - first + 1 }, (_, i) => ({
          atS: first + i,
          sent: 0,
          served: 0,
          failed: 0,
        }));
  for (const record of onRelease) {
    const bucket = seconds[secondOf(record) - first];
    if (bucket === undefined) continue;
    bucket.sent += 1;
    if (isFailed(record)) bucket.failed += 1;
    else if (record.outcome.kind === 'response') bucket.served += 1;
  }
  return {
    target: load.target,
    rate: load.rate,
    endedBy: run.endedBy,
    summary: summarize(onRelease),
    seconds,
    failedRequests: onRelease.filter(isFailed),
  };
}

/** The load around one release, as runRelease drives it. */
export interface ReleaseLoad {
  /** Starts the load; resolves once its baseline has run. */
  start(): Promise<void>;
  /** Keeps the load on for the tail, stops it, and returns its figures counted from `originMs` (the first job). */
  stop(originMs: number): Promise<ReleaseTraffic>;
}

export interface StorefrontLoadOptions {
  /** The web Service's base URL (its ClusterIP through kube-proxy). */
  readonly target: string;
  readonly rate: number;
  /** Steady load before the first job, so every plot starts with what normal looks like. */
  readonly baselineMs: number;
  /** Load after the release returned: old pods still finish their graceful shutdown then. */
  readonly tailMs: number;
  /** Upper bound of the whole run (baseline + release + tail): the generator stops by itself there. */
  readonly maxMs: number;
  /** The storefront paths (default: home, category, product, PWA Studio's GraphQL GET). */
  readonly paths?: readonly string[];
}

/**
 * Storefront load for one release: bounded in requests (rate × maxMs) and in time (maxMs), so it ends
 * by itself even if the demo never calls `stop`.
 */
export function storefrontLoad(options: StorefrontLoadOptions): ReleaseLoad {
  let handle: LoadHandle | undefined;
  return {
    async start() {
      handle = startLoad({
        target: options.target,
        paths: options.paths ?? storefrontPaths,
        rate: options.rate,
        budget: Math.ceil((options.rate * options.maxMs) / 1000),
        timeLimitMs: options.maxMs,
      });
      // A generator that fails to run is reported by stop(); until then its rejection is not unhandled.
      handle.done.catch(() => undefined);
      await sleep(options.baselineMs);
    },
    async stop(originMs) {
      if (handle === undefined) throw new Error('the storefront load was never started');
      await sleep(options.tailMs);
      handle.stop();
      return trafficFigures(await handle.done, originMs, options);
    },
  };
}
