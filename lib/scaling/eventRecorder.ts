import type { CoreV1Event } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { NotFoundError } from '../k8s/errors.ts';
import { createEvent, patchEventRepeat } from '../k8s/events.ts';
import type { ObjectRef } from '../k8s/objectRef.ts';
import type { Log } from '../observability/telemetry.ts';

/** The Deployment an Event is about; with its uid, `kubectl describe deployment` lists the Event. */
export interface EventSubject extends ObjectRef {
  readonly uid?: string;
}

/** Why the scaler tells a Deployment's story; stable names dashboards and `kubectl get events --field-selector reason=` rely on. */
type ScalerEventReason =
  | 'ScaledUp'
  | 'ScaledDown'
  | 'QueueUnreadable'
  | 'ReconcileFailed'
  | 'AnnotationInvalid'
  | 'PausedByRollout'
  | 'Paused'
  | 'HeldByBudget'
  | 'BudgetInvalid'
  | 'BudgetUnreadable';

export interface ScalerEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: ScalerEventReason;
  readonly message: string;
}

/** What the recorder remembers of an Event it wrote (per warm Lambda container, like client-go's cache per process). */
export interface SeenEvent {
  readonly name: string;
  /** Occurrences so far, the suppressed ones included. */
  readonly count: number;
  readonly firstAt: number;
  /** Last time the Event was written to the apiserver. */
  readonly writtenAt: number;
}

export interface EventRecorderSettings {
  /** A repeat of an identical Event is written at most this often; repeats in between only count. */
  readonly repeatIntervalMs: number;
  /** Start a new Event after this long: the apiserver deletes Events after its --event-ttl (1 h by default). */
  readonly eventTtlMs: number;
  /** Identical Events remembered at most (client-go's LRU holds 4096). */
  readonly maxEntries: number;
}

export const defaultEventRecorderSettings: EventRecorderSettings = Object.freeze({
  repeatIntervalMs: 60_000,
  eventTtlMs: 50 * 60_000,
  maxEntries: 4096,
});

/** What to do with one occurrence of an Event. */
export type EventAction =
  | { readonly kind: 'create' }
  | { readonly kind: 'patch'; readonly count: number }
  | { readonly kind: 'suppress'; readonly count: number };

/**
 * Aggregation as client-go's record.EventCorrelator does it for a 5 s loop: the first occurrence
 * creates an Event, an identical one (same object, type, reason and message) raises the Event's
 * `count` and `lastTimestamp` instead of creating another — but is written at most once per
 * `repeatIntervalMs` (the count catches up on the next write), so a stuck queue read every few
 * seconds costs one write a minute, not one per pass. After the Event's TTL a new one starts.
 */
export function nextEventAction(
  seen: SeenEvent | undefined,
  now: number,
  settings: EventRecorderSettings,
): EventAction {
  if (seen === undefined || now - seen.firstAt >= settings.eventTtlMs) return { kind: 'create' };
  const count = seen.count + 1;
  if (now - seen.writtenAt < settings.repeatIntervalMs) return { kind: 'suppress', count };
  return { kind: 'patch', count };
}

const component = 'm2-consumer-scaler';
const maxMessage = 1024;

/**
 * Records the scaler's decisions and skips as core/v1 Events on the Deployment (involvedObject with
 * its uid, so `kubectl describe deployment` shows them), aggregated by {@link nextEventAction}.
 * Best effort, as Kubernetes' own recorders are: a failed write is logged and never fails a reconcile.
 *
 * @example await recorder.record(cluster, { namespace, name, uid }, { type: 'Warning', reason: 'QueueUnreadable', message }, log)
 */
export class EventRecorder {
  readonly #settings: EventRecorderSettings;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #seen = new Map<string, SeenEvent>();
  #sequence = 0;

  constructor(
    options: {
      readonly settings?: EventRecorderSettings;
      readonly now?: () => number;
      readonly random?: () => number;
    } = {},
  ) {
    this.#settings = options.settings ?? defaultEventRecorderSettings;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  async record(cluster: ClusterClient, subject: EventSubject, event: ScalerEvent, log: Log): Promise<void> {
    const message = event.message.slice(0, maxMessage);
    const key = [subject.namespace, subject.name, subject.uid ?? '', event.type, event.reason, message].join(
      '\u0000',
    );
    const now = this.#now();
    const seen = this.#seen.get(key);
    const action = nextEventAction(seen, now, this.#settings);
    try {
      if (action.kind === 'suppress' && seen !== undefined) {
        this.#remember(key, { ...seen, count: action.count });
      } else if (action.kind === 'patch' && seen !== undefined) {
        await this.#patchOrCreate(cluster, subject, { ...event, message }, seen, action.count, now, key);
      } else {
        await this.#create(cluster, subject, { ...event, message }, now, key);
      }
    } catch (error) {
      log.warn('event not recorded', {
        namespace: subject.namespace,
        deployment: subject.name,
        reason: event.reason,
        error: error instanceof Error ? error.name : 'Error',
        message: messageOf(error),
      });
    }
  }

  async #patchOrCreate(
    cluster: ClusterClient,
    subject: EventSubject,
    event: ScalerEvent,
    seen: SeenEvent,
    count: number,
    now: number,
    key: string,
  ): Promise<void> {
    try {
      await patchEventRepeat(
        cluster,
        { namespace: subject.namespace, name: seen.name },
        { count, lastTimestamp: new Date(now), message: event.message },
      );
      this.#remember(key, { ...seen, count, writtenAt: now });
    } catch (error) {
      // Deleted by the apiserver's TTL (or by hand) since: start a new one.
      if (!(error instanceof NotFoundError)) throw error;
      await this.#create(cluster, subject, event, now, key);
    }
  }

  async #create(
    cluster: ClusterClient,
    subject: EventSubject,
    event: ScalerEvent,
    now: number,
    key: string,
  ): Promise<void> {
    const name = eventName(subject.name, now, this.#random(), this.#sequence++);
    const at = new Date(now);
    const body: CoreV1Event = {
      metadata: { name, namespace: subject.namespace },
      involvedObject: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: subject.namespace,
        name: subject.name,
        ...(subject.uid === undefined ? {} : { uid: subject.uid }),
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: { component },
      reportingComponent: component,
    };
    await createEvent(cluster, subject.namespace, body);
    this.#remember(key, { name, count: 1, firstAt: now, writtenAt: now });
  }

  /** Least recently used entries go first once the cache is full. */
  #remember(key: string, seen: SeenEvent): void {
    this.#seen.delete(key);
    this.#seen.set(key, seen);
    if (this.#seen.size > this.#settings.maxEntries) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }
}

/**
 * `<object>.<time in ns, hex>` as client-go names Events. The sub-millisecond digits are a random
 * part (two containers) and a sequence (two Events of one container in the same millisecond).
 * Cut so the name stays a 253-character DNS subdomain.
 */
function eventName(objectName: string, now: number, random: number, sequence: number): string {
  const nanos =
    BigInt(now) * 1_000_000n + BigInt(Math.floor(random * 1000)) * 1000n + BigInt(sequence % 1000);
  return `${objectName.slice(0, 236)}.${nanos.toString(16)}`;
}
