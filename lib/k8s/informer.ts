import { KubeConfig, ListWatch, Watch } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import { collectionPath } from './clientNodeCluster.ts';
import type { ClusterClient, ListedResource, ListOf, ObjectOf, Selection } from './clusterClient.ts';
import type { K8sOperation } from './errors.ts';

const resourceNames: { readonly [R in ListedResource]: string } = {
  deployments: 'deployments.apps',
  replicasets: 'replicasets.apps',
  pods: 'pods',
  jobs: 'jobs.batch',
};

/** Back-off before restarting an informer whose watch failed: 200 ms, doubling, at most 5 s. */
const restartDelayMs = (failures: number): number => Math.min(5000, 200 * 2 ** Math.min(failures, 5));

/**
 * client-node's ListWatch takes a Watch; this one opens its watches through the port, so the
 * same informer runs over the real cluster and over the fake one of the unit tests. The
 * KubeConfig handed to Watch is never used: only `watch` is, and it is overridden.
 */
class PortWatch<R extends ListedResource> extends Watch {
  readonly #cluster: ClusterClient;
  readonly #resource: R;
  readonly #selection: Selection;
  readonly #timeoutSeconds: number | undefined;
  readonly #stopped: () => boolean;

  constructor(
    cluster: ClusterClient,
    resource: R,
    selection: Selection,
    timeoutSeconds: number | undefined,
    stopped: () => boolean,
  ) {
    super(new KubeConfig());
    this.#cluster = cluster;
    this.#resource = resource;
    this.#selection = selection;
    this.#timeoutSeconds = timeoutSeconds;
    this.#stopped = stopped;
  }

  override async watch(
    _path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    // ListWatch opens the watch after its list even when it was stopped meanwhile: open none then.
    if (this.#stopped()) return controller;
    const resourceVersion = queryParams.resourceVersion;
    try {
      const handle = await this.#cluster.watch(
        this.#resource,
        {
          ...this.#selection,
          ...(typeof resourceVersion === 'string' && resourceVersion !== '' ? { resourceVersion } : {}),
          ...(this.#timeoutSeconds === undefined ? {} : { timeoutSeconds: this.#timeoutSeconds }),
        },
        (event) => callback(event.type, event.object, event),
        (error) => done(error ?? null),
      );
      controller.signal.addEventListener('abort', () => handle.stop(), { once: true });
    } catch (error) {
      // ListWatch awaits this call from a callback: a rejection would go unhandled. Report it as the watch's end.
      done(error);
    }
    return controller;
  }
}

/** What an informer reports besides its cache. */
interface InformerEvents<T> {
  /** An object was added, changed or deleted (also for the objects of every re-list). */
  readonly onChange?: (object: T) => void;
  /** A watch failed; the informer restarts itself after a back-off. */
  readonly onError?: (error: unknown) => void;
}

/** A started informer: an up-to-date cache of the selected objects, kept by list + watch. */
export interface ClusterInformer<T> {
  list(): readonly T[];
  get(name: string): T | undefined;
  /** Watch requests opened so far (re-opened after expiry, 410 Gone or errors). */
  readonly connections: number;
  stop(): void;
}

export interface InformerOptions<T> extends InformerEvents<T> {
  /** Ask the apiserver to end each watch request after this long (its default is 30–60 min). */
  readonly watchTimeoutSeconds?: number;
}

/**
 * Lists the selected objects and keeps them current with a watch (client-node's ListWatch over the
 * port): resumes from the last resourceVersion when a watch ends, re-lists on 410 Gone, and
 * restarts with back-off when a watch fails. Resolves once the first list arrived; rejects with the
 * typed error when it cannot be listed at all (e.g. ForbiddenError).
 *
 * @example
 * const pods = await startInformer(cluster, 'pods', { namespace, labelSelector: 'app=web' }, { onChange: wake });
 * pods.list(); pods.stop();
 */
export async function startInformer<R extends ListedResource>(
  cluster: ClusterClient,
  resource: R,
  selection: Selection,
  options: InformerOptions<ObjectOf<R>> = {},
): Promise<ClusterInformer<ObjectOf<R>>> {
  const op: K8sOperation = {
    verb: 'list',
    resource: resourceNames[resource],
    ...(selection.namespace === undefined ? {} : { namespace: selection.namespace }),
    idempotent: true,
  };
  let listed = false;
  const state = { stopped: false };
  const listFn = async (): Promise<ListOf<R>> => {
    const list = await callK8s(cluster.calls, op, (o) => cluster.list(resource, selection, o));
    listed = true;
    return list;
  };
  const informer = new ListWatch<ObjectOf<R>>(
    collectionPath(resource, selection.namespace),
    new PortWatch(cluster, resource, selection, options.watchTimeoutSeconds, () => state.stopped),
    listFn,
    false,
    selection.labelSelector,
    selection.fieldSelector,
    { delayFn: (ms) => cluster.calls.sleep(ms) },
  );
  return new RestartingInformer<R>(informer, cluster, options, () => listed, state).start();
}

/** Owns a ListWatch: counts connections, restarts it after failures, stops it for good on stop(). */
class RestartingInformer<R extends ListedResource> implements ClusterInformer<ObjectOf<R>> {
  readonly #informer: ListWatch<ObjectOf<R>>;
  readonly #cluster: ClusterClient;
  readonly #events: InformerEvents<ObjectOf<R>>;
  readonly #listed: () => boolean;
  /** Shared with the PortWatch, which opens no watch once this is set. */
  readonly #state: { stopped: boolean };
  #connections = 0;
  #failures = 0;
  #firstError: unknown;

  constructor(
    informer: ListWatch<ObjectOf<R>>,
    cluster: ClusterClient,
    events: InformerEvents<ObjectOf<R>>,
    listed: () => boolean,
    state: { stopped: boolean },
  ) {
    this.#informer = informer;
    this.#cluster = cluster;
    this.#events = events;
    this.#listed = listed;
    this.#state = state;
  }

  get connections(): number {
    return this.#connections;
  }

  async start(): Promise<this> {
    this.#informer.on('change', (object) => {
      this.#failures = 0;
      this.#events.onChange?.(object);
    });
    this.#informer.on('connect', () => {
      this.#connections++;
    });
    this.#informer.on('error', (error: unknown) => this.#failed(error));
    await this.#informer.start();
    if (!this.#listed()) {
      this.stop();
      throw this.#firstError ?? new Error('the informer did not list');
    }
    return this;
  }

  list(): readonly ObjectOf<R>[] {
    return this.#informer.list();
  }

  get(name: string): ObjectOf<R> | undefined {
    return this.#informer.list().find((o) => o.metadata?.name === name);
  }

  stop(): void {
    this.#state.stopped = true;
    void this.#informer.stop();
  }

  #failed(error: unknown): void {
    if (!this.#listed()) {
      this.#firstError ??= error;
      return;
    }
    if (this.#state.stopped) return;
    this.#events.onError?.(error);
    const delay = restartDelayMs(this.#failures++);
    void this.#cluster.calls.sleep(delay).then(() => {
      if (!this.#state.stopped) void this.#informer.start();
    });
  }
}
