import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { type ClusterInformer, startInformer } from '../k8s/informer.ts';
import { labelSelectorString } from '../k8s/objectRef.ts';
import { type RolloutProgress, rolloutProgressOf } from '../k8s/rolloutProgress.ts';

export interface ChangeFeedOptions {
  /** How long one watch request lasts before the apiserver ends it and the informer resumes (default: the apiserver's). */
  readonly watchTimeoutSeconds?: number;
}

/**
 * One Deployment, its ReplicaSets and its pods, kept current by three informers (list, then watch
 * from the list's resourceVersion; resumed when a watch ends, re-listed after 410 Gone). The
 * rollout's state is computed from their caches, so a change costs no request; `version` counts
 * the changes, and `next` resolves on the first one after a version seen.
 *
 * @example
 * const feed = await RolloutChangeFeed.open(cluster, 'shop-a', 'm2-http');
 * const seen = feed.version; const progress = feed.progress();
 * await feed.next(seen); feed.close();
 */
export class RolloutChangeFeed {
  readonly #name: string;
  readonly #informers: {
    deployment?: ClusterInformer<V1Deployment>;
    replicaSets?: ClusterInformer<V1ReplicaSet>;
    pods?: ClusterInformer<V1Pod>;
  } = {};
  readonly #waiters = new Set<() => void>();
  #version = 0;
  #closed = false;

  private constructor(name: string) {
    this.#name = name;
  }

  /** Starts the informers of `namespace/name`; resolves once each has listed its objects. */
  static async open(
    cluster: ClusterClient,
    namespace: string,
    name: string,
    options: ChangeFeedOptions = {},
  ): Promise<RolloutChangeFeed> {
    const feed = new RolloutChangeFeed(name);
    const informerOptions = {
      onChange: () => feed.#bump(),
      ...(options.watchTimeoutSeconds === undefined
        ? {}
        : { watchTimeoutSeconds: options.watchTimeoutSeconds }),
    };
    try {
      const deployment = await startInformer(
        cluster,
        'deployments',
        { namespace, fieldSelector: `metadata.name=${name}` },
        informerOptions,
      );
      feed.#informers.deployment = deployment;
      const selector = deployment.get(name)?.spec?.selector;
      if (selector !== undefined) {
        const selection = { namespace, labelSelector: labelSelectorString(selector) };
        const [replicaSets, pods] = await Promise.allSettled([
          startInformer(cluster, 'replicasets', selection, informerOptions),
          startInformer(cluster, 'pods', selection, informerOptions),
        ]);
        // Kept before looking at failures, so close() stops the one that started.
        if (replicaSets.status === 'fulfilled') feed.#informers.replicaSets = replicaSets.value;
        if (pods.status === 'fulfilled') feed.#informers.pods = pods.value;
        if (replicaSets.status === 'rejected') throw replicaSets.reason;
        if (pods.status === 'rejected') throw pods.reason;
      }
    } catch (error) {
      feed.close();
      throw error;
    }
    return feed;
  }

  /** Changes seen so far; read it together with `progress()`, then wait with `next(version)`. */
  get version(): number {
    return this.#version;
  }

  /** Watch requests the informers opened so far (each re-opens its watch when one ends). */
  get connections(): number {
    const { deployment, replicaSets, pods } = this.#informers;
    return (deployment?.connections ?? 0) + (replicaSets?.connections ?? 0) + (pods?.connections ?? 0);
  }

  /** The Deployment as last seen, or undefined when it is gone. */
  deployment(): V1Deployment | undefined {
    return this.#informers.deployment?.get(this.#name);
  }

  /** The rollout as the caches show it now; undefined when the Deployment is gone. */
  progress(): RolloutProgress | undefined {
    const deployment = this.deployment();
    if (deployment === undefined) return undefined;
    return rolloutProgressOf(
      deployment,
      this.#informers.replicaSets?.list() ?? [],
      this.#informers.pods?.list() ?? [],
    );
  }

  /** Resolves once a change after `seen` arrives (at once if one has), or when the feed is closed. */
  next(seen: number): Promise<void> {
    if (this.#version > seen || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
    });
  }

  /** Stops the informers and wakes any waiter. */
  close(): void {
    this.#closed = true;
    const { deployment, replicaSets, pods } = this.#informers;
    deployment?.stop();
    replicaSets?.stop();
    pods?.stop();
    this.#bump();
  }

  #bump(): void {
    this.#version++;
    for (const wake of [...this.#waiters]) wake();
  }
}
