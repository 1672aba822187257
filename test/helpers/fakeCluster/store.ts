import type {
  CoreV1Event,
  KubernetesObject,
  V1CronJob,
  V1Deployment,
  V1Job,
  V1Lease,
  V1Pod,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import type { ListedResources, Selection, WatchEvent, WatchHandle } from '../../../lib/k8s/clusterClient.ts';
import { wire } from './patch.ts';
import { selects } from './selectors.ts';

/** Everything the fake apiserver stores, by resource (plural, as in the API path). */
export interface Kinds extends ListedResources {
  readonly deployments: V1Deployment;
  readonly replicasets: V1ReplicaSet;
  readonly pods: V1Pod;
  readonly jobs: V1Job;
  readonly cronjobs: V1CronJob;
  readonly leases: V1Lease;
  readonly events: CoreV1Event;
}
export type Kind = keyof Kinds;

type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent<T> {
  readonly resourceVersion: number;
  readonly type: ObjectEventType;
  readonly object: T;
}

interface Watcher<T> {
  readonly selection: Selection;
  readonly expiresAt: number;
  readonly onEvent: (event: WatchEvent<T>) => void;
  readonly onDone: (error?: unknown) => void;
  open: boolean;
}

const key = (namespace: string | undefined, name: string | undefined): string =>
  `${namespace ?? ''}/${name ?? ''}`;

/** The global resourceVersion counter and the time, shared by all collections. */
export interface StoreContext {
  nextResourceVersion(): number;
  now(): number;
}

/**
 * One resource's objects, its recent change history (what a watch resumes from) and its watches.
 * Events reach watchers asynchronously, in order, like a stream would.
 */
export class Collection<T extends KubernetesObject> {
  readonly #context: StoreContext;
  readonly #items = new Map<string, T>();
  #history: StoredEvent<T>[] = [];
  /** Oldest resourceVersion a watch may resume after; older ones get 410 Gone. */
  #horizon = 0;
  readonly #watchers = new Set<Watcher<T>>();

  constructor(context: StoreContext) {
    this.#context = context;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    const object = this.#items.get(key(namespace, name));
    return object === undefined ? undefined : wire(object);
  }

  list(selection: Selection): T[] {
    return [...this.#items.values()].filter((o) => selects(selection, o)).map((o) => wire(o));
  }

  /** Stores the object with a new resourceVersion and tells the watchers; returns what was stored. */
  put(object: T): T {
    const stored = wire(object);
    const itemKey = key(stored.metadata?.namespace, stored.metadata?.name);
    const before = this.#items.get(itemKey);
    const resourceVersion = this.#context.nextResourceVersion();
    stored.metadata = { ...stored.metadata, resourceVersion: String(resourceVersion) };
    this.#items.set(itemKey, stored);
    this.#record(resourceVersion, before === undefined ? 'ADDED' : 'MODIFIED', stored, before);
    return wire(stored);
  }

  delete(namespace: string | undefined, name: string): T | undefined {
    const itemKey = key(namespace, name);
    const before = this.#items.get(itemKey);
    if (before === undefined) return undefined;
    this.#items.delete(itemKey);
    const resourceVersion = this.#context.nextResourceVersion();
    const gone = wire(before);
    gone.metadata = { ...gone.metadata, resourceVersion: String(resourceVersion) };
    this.#record(resourceVersion, 'DELETED', gone, before);
    return gone;
  }

  all(): T[] {
    return [...this.#items.values()];
  }

  /**
   * Opens a watch: from `resourceVersion` (replaying the history after it; an ERROR 410 and the end
   * of the watch when it is older than the history), or from now with every match as ADDED.
   */
  watch(
    selection: Selection,
    resourceVersion: string | undefined,
    timeoutSeconds: number,
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (error?: unknown) => void,
  ): WatchHandle {
    const watcher: Watcher<T> = {
      selection,
      expiresAt: this.#context.now() + timeoutSeconds * 1000,
      onEvent,
      onDone,
      open: true,
    };
    this.#watchers.add(watcher);
    const handle = { stop: () => this.#close(watcher, false) };
    if (resourceVersion === undefined) {
      for (const object of this.list(selection)) this.#deliver(watcher, { type: 'ADDED', object });
      return handle;
    }
    const after = Number(resourceVersion);
    if (after < this.#horizon) {
      this.#deliver(watcher, {
        type: 'ERROR',
        object: {
          kind: 'Status',
          status: 'Failure',
          code: 410,
          reason: 'Expired',
          message: 'too old resource version',
        },
      });
      this.#close(watcher, true);
      return handle;
    }
    for (const event of this.#history) {
      if (event.resourceVersion > after) this.#send(watcher, event, undefined);
    }
    return handle;
  }

  /** Ends every watch whose time is up (as the apiserver does after timeoutSeconds). */
  expire(now: number): void {
    for (const watcher of this.#watchers) if (watcher.expiresAt <= now) this.#close(watcher, true);
  }

  /** Earliest time a watch expires. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const watcher of this.#watchers) next = Math.min(next ?? watcher.expiresAt, watcher.expiresAt);
    return next;
  }

  /** Ends every watch now (an apiserver restart, a load balancer dropping the streams). */
  closeAll(error?: unknown): void {
    for (const watcher of this.#watchers) this.#close(watcher, true, error);
  }

  /** Forgets the history: a watch resuming from an older version gets 410 Gone and must re-list. */
  compact(): void {
    this.#horizon = this.#context.nextResourceVersion();
    this.#history = [];
  }

  get watchCount(): number {
    return this.#watchers.size;
  }

  #record(resourceVersion: number, type: ObjectEventType, object: T, before: T | undefined): void {
    const event: StoredEvent<T> = { resourceVersion, type, object: wire(object) };
    this.#history.push(event);
    if (this.#history.length > 1000) this.#history.shift();
    for (const watcher of this.#watchers) this.#send(watcher, event, before);
  }

  /** A MODIFIED event of an object that enters or leaves the selection arrives as ADDED or DELETED. */
  #send(watcher: Watcher<T>, event: StoredEvent<T>, before: T | undefined): void {
    const now = selects(watcher.selection, event.object);
    const was = before !== undefined && selects(watcher.selection, before);
    if (event.type === 'MODIFIED' && before !== undefined && now !== was) {
      this.#deliver(watcher, { type: now ? 'ADDED' : 'DELETED', object: wire(event.object) });
    } else if (now || (event.type === 'DELETED' && was)) {
      this.#deliver(watcher, { type: event.type, object: wire(event.object) });
    }
  }

  #deliver(watcher: Watcher<T>, event: WatchEvent<T>): void {
    queueMicrotask(() => {
      if (watcher.open) watcher.onEvent(event);
    });
  }

  #close(watcher: Watcher<T>, notify: boolean, error?: unknown): void {
    if (!this.#watchers.delete(watcher)) return;
    if (!notify) {
      watcher.open = false;
      return;
    }
    // After the events already on their way, like the end of a stream.
    queueMicrotask(() => {
      if (!watcher.open) return;
      watcher.open = false;
      watcher.onDone(error);
    });
  }
}

/** One collection per resource, all on one resourceVersion counter. */
export type Collections = { readonly [K in Kind]: Collection<Kinds[K]> };

export function createCollections(context: StoreContext): Collections {
  return {
    deployments: new Collection<V1Deployment>(context),
    replicasets: new Collection<V1ReplicaSet>(context),
    pods: new Collection<V1Pod>(context),
    jobs: new Collection<V1Job>(context),
    cronjobs: new Collection<V1CronJob>(context),
    leases: new Collection<V1Lease>(context),
    events: new Collection<CoreV1Event>(context),
  };
}
