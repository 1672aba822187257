import autocannon from 'autocannon';
import { type RequestRecord, RequestRecorder } from './requestRecorder.ts';

/** A bounded run of storefront requests: stops by itself at its budget or its time limit. */
export interface LoadSettings {
  /** Base URL, e.g. `http://10.96.0.17` (a Service's ClusterIP through kube-proxy) or a pod's `http://10.89.1.5:8080`. */
  readonly target: string;
  /** Paths (with query) the connections request; each connection keeps to one of them. */
  readonly paths: readonly string[];
  /** Requests per second over all connections (autocannon's overallRate: spread over each second). */
  readonly rate: number;
  /** At most this many requests; the run ends when they are all answered or failed. */
  readonly budget: number;
  /** The run ends after this long whatever happens; requests still in flight are `unfinished`. */
  readonly timeLimitMs: number;
  /** A request unanswered this long fails as `timeout` (default 10 s, autocannon's). */
  readonly timeoutMs?: number;
  /** Keep-alive connections (default two per path, at most `rate`). */
  readonly connections?: number;
}

/** A finished run: every request sent, in the order their outcomes were known. */
export interface LoadRun {
  /** Wall-clock time (ms since the epoch) of the run's 0 ms. */
  readonly startedAt: number;
  readonly endedBy: 'budget' | 'time limit' | 'stopped';
  readonly records: readonly RequestRecord[];
}

/** A run under way. */
export interface LoadHandle {
  /** ms since the run started, on the records' clock: to mark scenario events on the timeline. */
  elapsedMs(): number;
  /** Ends the run now (idempotent); `done` resolves once autocannon closed its connections. */
  stop(): void;
  readonly done: Promise<LoadRun>;
}

/** Thrown for settings the generator cannot run with; the message names the setting. */
class LoadSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadSettingsError';
  }
}

/** Bounds that keep a run modest on a small shared machine. */
const limits = { rate: { min: 1, max: 200 }, budget: { min: 1, max: 100_000 } } as const;

function checked(settings: LoadSettings): Required<LoadSettings> {
  const { rate, budget, paths } = settings;
  if (!Number.isInteger(rate) || rate < limits.rate.min || rate > limits.rate.max)
    throw new LoadSettingsError(`rate must be a whole number of requests/s from 1 to 200, not ${rate}`);
  if (!Number.isInteger(budget) || budget < limits.budget.min || budget > limits.budget.max)
    throw new LoadSettingsError(`budget must be a whole number of requests from 1 to 100000, not ${budget}`);
  if (paths.length === 0 || paths.some((p) => !p.startsWith('/')))
    throw new LoadSettingsError(
      `paths must be a non-empty list of paths starting with "/": ${paths.join(', ')}`,
    );
  if (!(settings.timeLimitMs > 0))
    throw new LoadSettingsError(`timeLimitMs must be positive, not ${settings.timeLimitMs}`);
  // autocannon refuses more connections than requests, and gives a connection above the rate no rate (unlimited).
  const connections = Math.min(settings.connections ?? paths.length * 2, rate, budget);
  return { ...settings, connections, timeoutMs: settings.timeoutMs ?? 10_000 };
}

/**
 * Starts a bounded load on autocannon and records every request (start, end, status or error),
 * not only autocannon's aggregates: see RequestRecorder for how its client events map to requests.
 *
 * @example
 * const load = startLoad({ target: 'http://10.96.0.17', paths: ['/'], rate: 20, budget: 600, timeLimitMs: 40_000 });
 * // … change something, marking load.elapsedMs() …
 * const run = await load.done;
 */
export function startLoad(settings: LoadSettings): LoadHandle {
  const s = checked(settings);
  const records: RequestRecord[] = [];
  let endedBy: LoadRun['endedBy'] = 'budget';
  let stopping = false;
  let clients = 0;
  const startedAt = Date.now();
  const t0 = performance.now();
  const elapsedMs = () => performance.now() - t0;
  const instance = autocannon(
    {
      url: s.target,
      connections: s.connections,
      overallRate: s.rate,
      amount: s.budget,
      timeout: s.timeoutMs / 1000,
      setupClient(client) {
        const path = s.paths[clients % s.paths.length] ?? '/';
        clients += 1;
        client.setRequests([{ method: 'GET', path }]);
        new RequestRecorder(client, path, { now: elapsedMs, stopping: () => stopping, records });
      },
    },
    () => undefined,
  );
  const stop = (reason: LoadRun['endedBy']) => {
    if (stopping) return;
    stopping = true;
    endedBy = reason;
    instance.stop();
  };
  const timer = setTimeout(() => stop('time limit'), s.timeLimitMs);
  const done = new Promise<LoadRun>((resolve, reject) => {
    instance.on('done', () => {
      clearTimeout(timer);
      resolve({ startedAt, endedBy, records });
    });
    instance.on('error', (error: unknown) => {
      clearTimeout(timer);
      reject(new Error(`the load on ${s.target} failed to run`, { cause: error }));
    });
  });
  return { elapsedMs, stop: () => stop('stopped'), done };
}
