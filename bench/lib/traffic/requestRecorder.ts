import type { EventEmitter } from 'node:events';

/** How one request ended. */
export type RequestOutcome =
  /** An HTTP response, whatever its status. */
  | { readonly kind: 'response'; readonly status: number }
  /** No response: a timeout, a refused or reset connection, or a connection closed under it. */
  | { readonly kind: 'error'; readonly reason: string }
  /** Still in flight when the run was stopped (its time bound or `stop()`): neither served nor failed. */
  | { readonly kind: 'unfinished' }
  /**
   * Written by autocannon on a connection whose previous response said it closes (`Connection:
   * close`): the server never reads it, and a conforming client (a browser, the ALB) would not have
   * sent it there. autocannon writes the next request as soon as a response is complete, without
   * looking at that header; counted apart, neither served nor failed.
   */
  | { readonly kind: 'discarded' };

/** One request the load generator sent. */
export interface RequestRecord {
  readonly path: string;
  /** When it was written to its connection, in ms since the run started. */
  readonly startMs: number;
  /** When its outcome was known, in ms since the run started. */
  readonly endMs: number;
  readonly outcome: RequestOutcome;
}

/** Reason recorded for a request whose connection ended before its response (the server closed it). */
const closedBeforeResponse = 'connection closed before a response';

interface Sent {
  readonly path: string;
  readonly startMs: number;
}

interface Finished {
  path: string;
  startMs: number;
  endMs: number;
  outcome: RequestOutcome;
}

/**
 * Turns one autocannon client's events into one record per request. autocannon (lib/httpClient.js,
 * 9.x) keeps one request in flight per connection (pipelining 1) and emits `request` just before it
 * writes one, `response` when one is complete, `connError` when the socket fails, `timeout` after it
 * replaced a connection whose request took too long, and `done` when the client is destroyed. When the
 * server closes a keep-alive connection under a request, autocannon reconnects and sends the next one
 * without any event and without counting an error: a `request` while one is still in flight is that
 * lost request, recorded here as failed (its own aggregates would silently drop it).
 */
export class RequestRecorder {
  readonly #path: string;
  readonly #now: () => number;
  readonly #stopping: () => boolean;
  readonly #records: Finished[];
  #inFlight: Sent | undefined;
  /** The request a reconnect just replaced: a `timeout` that follows is its reason. */
  #replaced: Finished | undefined;
  /** The last response said the server closes the connection after it. */
  #closing = false;
  /** The request in flight was written after such a response. */
  #doomed = false;

  constructor(
    client: EventEmitter,
    path: string,
    options: { now: () => number; stopping: () => boolean; records: Finished[] },
  ) {
    this.#path = path;
    this.#now = options.now;
    this.#stopping = options.stopping;
    this.#records = options.records;
    client.on('request', () => this.#sent());
    // http-parser-js's headers info: shouldKeepAlive is false for `Connection: close` (and HTTP/1.0).
    client.on('headers', (info: unknown) => {
      this.#closing = isObject(info) && info.shouldKeepAlive === false;
    });
    client.on('response', (status: unknown) => this.#finish({ kind: 'response', status: Number(status) }));
    client.on('connError', (error: unknown) => this.#finish({ kind: 'error', reason: reasonOf(error) }));
    client.on('timeout', () => this.#timedOut());
    client.on('done', () =>
      this.#finish(
        this.#stopping() ? { kind: 'unfinished' } : { kind: 'error', reason: closedBeforeResponse },
      ),
    );
  }

  #sent(): void {
    const lost = this.#finish(
      this.#doomed ? { kind: 'discarded' } : { kind: 'error', reason: closedBeforeResponse },
    );
    this.#inFlight = { path: this.#path, startMs: this.#now() };
    this.#replaced = lost;
    this.#doomed = this.#closing;
    this.#closing = false;
  }

  #timedOut(): void {
    // autocannon reconnects (and usually writes the next request) before it emits `timeout`.
    const timedOut = this.#replaced ?? this.#finish({ kind: 'error', reason: 'timeout' });
    if (timedOut !== undefined) timedOut.outcome = { kind: 'error', reason: 'timeout' };
    this.#replaced = undefined;
  }

  #finish(outcome: RequestOutcome): Finished | undefined {
    const sent = this.#inFlight;
    this.#replaced = undefined;
    if (sent === undefined) return undefined;
    this.#inFlight = undefined;
    const record: Finished = {
      ...sent,
      endMs: this.#now(),
      outcome: this.#doomed && outcome.kind === 'error' ? { kind: 'discarded' } : outcome,
    };
    this.#doomed = false;
    this.#records.push(record);
    return record;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

const reasonOf = (error: unknown): string => {
  // Node's socket errors carry the errno name (ECONNREFUSED, ECONNRESET, EPIPE): the useful part.
  if (error instanceof Error)
    return 'code' in error && typeof error.code === 'string' ? error.code : error.message;
  return String(error);
};
