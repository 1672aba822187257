import { Watch } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { readDeployment } from '../k8s/deployments.ts';
import { labelSelectorString } from '../k8s/objectRef.ts';

/** How long one watch request lasts before the apiserver ends it and we open a new one. */
const defaultWatchSeconds = 240;
/** Pause before re-opening a watch that ended (expiry, 410 Gone, connection lost). */
const reopenMs = 200;

/**
 * Counts changes to one Deployment and its pods, from two watches (the Deployment by name, its pods
 * by the Deployment's selector). A watch that ends is opened again without a resourceVersion: its
 * initial ADDED events count as a change, so the waiter reads (re-lists) the state afresh and misses
 * nothing that happened in between.
 *
 * @example
 * const feed = await RolloutChangeFeed.open(cluster, 'shop-a', 'm2-http');
 * const seen = feed.version; // …read the rollout…
 * await feed.changedSince(seen, 5_000); feed.close();
 */
export class RolloutChangeFeed {
  readonly #cluster: ClusterClient;
  readonly #paths: readonly { path: string; query: Record<string, string> }[];
  readonly #controllers = new Set<AbortController>();
  readonly #waiters = new Set<() => void>();
  readonly #watchSeconds: number;
  #version = 0;
  #closed = false;

  private constructor(
    cluster: ClusterClient,
    paths: readonly { path: string; query: Record<string, string> }[],
    watchSeconds: number,
  ) {
    this.#cluster = cluster;
    this.#paths = paths;
    this.#watchSeconds = watchSeconds;
  }

  /** Starts watching `namespace/name` and its pods; each watch request lasts `watchSeconds`. */
  static async open(
    cluster: ClusterClient,
    namespace: string,
    name: string,
    watchSeconds = defaultWatchSeconds,
  ): Promise<RolloutChangeFeed> {
    const deployment = await readDeployment(cluster, { namespace, name });
    const ns = encodeURIComponent(namespace);
    const selector = deployment.spec?.selector;
    const feed = new RolloutChangeFeed(
      cluster,
      [
        {
          path: `/apis/apps/v1/namespaces/${ns}/deployments`,
          query: { fieldSelector: `metadata.name=${name}` },
        },
        ...(selector === undefined
          ? []
          : [
              {
                path: `/api/v1/namespaces/${ns}/pods`,
                query: { labelSelector: labelSelectorString(selector) },
              },
            ]),
      ],
      watchSeconds,
    );
    for (const watched of feed.#paths) feed.#watch(watched.path, watched.query);
    return feed;
  }

  /** Changes seen so far; pass it to changedSince after reading the state. */
  get version(): number {
    return this.#version;
  }

  /** Resolves once a change after `seen` arrives, or after `timeoutMs`, whichever is first. */
  changedSince(seen: number, timeoutMs: number): Promise<void> {
    if (this.#version > seen || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      this.#waiters.add(wake);
    });
  }

  /** Stops both watches and wakes any waiter. */
  close(): void {
    this.#closed = true;
    for (const controller of this.#controllers) controller.abort();
    this.#controllers.clear();
    this.#bump();
  }

  #bump(): void {
    this.#version++;
    for (const wake of [...this.#waiters]) wake();
  }

  #watch(path: string, query: Record<string, string>): void {
    if (this.#closed) return;
    let reopened = false;
    let current: AbortController | undefined;
    const reopen = () => {
      if (current !== undefined) this.#controllers.delete(current);
      if (reopened || this.#closed) return;
      reopened = true;
      setTimeout(() => this.#watch(path, query), reopenMs);
    };
    new Watch(this.#cluster.kubeConfig)
      .watch(
        path,
        { ...query, timeoutSeconds: this.#watchSeconds, allowWatchBookmarks: false },
        () => this.#bump(),
        () => reopen(),
      )
      .then(
        (controller) => {
          current = controller;
          if (this.#closed || reopened) controller.abort();
          else this.#controllers.add(controller);
        },
        () => reopen(),
      );
  }
}
