import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { PodConsumers } from './podConsumers.ts';

/** One observation of a lane, once a second. */
export interface LaneSample {
  /** Seconds since the burst started. */
  readonly t: number;
  readonly replicas: number;
  readonly pods: number;
  /** Visible + in flight, as both scalers count the backlog. */
  readonly backlog: number;
}

/** What a lane measured. */
export interface LaneFigures {
  /** From the first message sent until spec.replicas reached the target. */
  readonly timeToTargetS: number | undefined;
  /** From the first message sent until the first replica was requested. */
  readonly timeToFirstPodS: number | undefined;
  /** From the last message sent until the last one was deleted. */
  readonly drainS: number | undefined;
  /** From the last delete until spec.replicas was 0 again. */
  readonly backToZeroS: number | undefined;
  readonly podMinutes: number;
  readonly replicaChanges: number;
  readonly peakReplicas: number;
  /** Times spec.replicas went to 0 while a consumer held a message. */
  readonly zeroWhileInFlight: number;
  readonly deleted: number;
  readonly receiveP50Ms: number | undefined;
}

/** The Deployment and queue a lane observes, and what counts as done. */
export interface LaneTarget {
  readonly namespace: string;
  readonly name: string;
  readonly queueUrl: string;
  readonly target: number;
  readonly messages: number;
}

/**
 * Watches one lane's Deployment, pods and queue, feeds the pods to their consumers, and keeps the
 * figures. Polling once a second: replica changes closer together than that count once.
 */
export class LaneObserver {
  readonly samples: LaneSample[] = [];
  burstAt = 0;
  sentAt: number | undefined;
  #targetAt: number | undefined;
  #firstPodAt: number | undefined;
  #zeroAgainAt: number | undefined;
  #changes = 0;
  #peak = 0;
  #zeroWhileInFlight = 0;
  #last: number | undefined;
  #backlog = 0;
  #backlogReadAt = 0;
  #backlogRead: Promise<void> | undefined;

  readonly consumers: PodConsumers;
  readonly #k8s: { apps: AppsV1Api; core: CoreV1Api };
  readonly #sqs: SQSClient;
  readonly #lane: LaneTarget;

  constructor(
    k8s: { apps: AppsV1Api; core: CoreV1Api },
    sqs: SQSClient,
    lane: LaneTarget,
    consumers: PodConsumers,
  ) {
    this.#k8s = k8s;
    this.#sqs = sqs;
    this.#lane = lane;
    this.consumers = consumers;
  }

  /** One observation; true once the burst is consumed and the Deployment is back at zero with no consumer left. */
  async observe(): Promise<boolean> {
    const now = Date.now();
    const { namespace, name } = this.#lane;
    // The queue is read on its own, at most every 5 s and never awaited here: a loaded moto must
    // not delay seeing replicas or starting the consumers of new pods.
    if (this.#backlogRead === undefined && now - this.#backlogReadAt >= 5000) {
      this.#backlogReadAt = now;
      this.#backlogRead = this.#readBacklog()
        .catch(() => undefined)
        .finally(() => {
          this.#backlogRead = undefined;
        });
    }
    const [deployment, pods] = await Promise.all([
      this.#k8s.apps.readNamespacedDeployment({ namespace, name }),
      this.#k8s.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` }),
    ]);
    const replicas = deployment.spec?.replicas ?? 0;
    this.consumers.sync(
      pods.items.map((p) => ({
        name: p.metadata?.name ?? '',
        createdAt: p.metadata?.creationTimestamp?.getTime() ?? now,
        deleting: p.metadata?.deletionTimestamp !== undefined,
      })),
      now,
    );
    if (this.#last !== undefined && replicas !== this.#last) {
      this.#changes++;
      if (replicas === 0 && this.consumers.holding > 0) this.#zeroWhileInFlight++;
    }
    this.#last = replicas;
    this.#peak = Math.max(this.#peak, replicas);
    const t = (now - this.burstAt) / 1000;
    if (this.burstAt > 0) {
      if (this.#firstPodAt === undefined && replicas >= 1) this.#firstPodAt = now;
      if (this.#targetAt === undefined && replicas >= this.#lane.target) this.#targetAt = now;
    }
    const drained = this.consumers.deleted >= this.#lane.messages;
    if (drained && replicas === 0) this.#zeroAgainAt ??= now;
    this.samples.push({ t, replicas, pods: this.consumers.alive, backlog: this.#backlog });
    return drained && replicas === 0 && this.consumers.alive === 0;
  }

  async #readBacklog(): Promise<void> {
    const { Attributes: a = {} } = await this.#sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.#lane.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    this.#backlog =
      Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  figures(end: number): LaneFigures {
    const s = (from: number | undefined, to: number | undefined): number | undefined =>
      from === undefined || to === undefined ? undefined : (to - from) / 1000;
    const c = this.consumers;
    const sorted = [...c.receiveMs].sort((x, y) => x - y);
    return {
      timeToTargetS: s(this.burstAt, this.#targetAt),
      timeToFirstPodS: s(this.burstAt, this.#firstPodAt),
      drainS: c.deleted >= this.#lane.messages ? s(this.sentAt, c.lastDeleteAt) : undefined,
      backToZeroS: s(c.lastDeleteAt, this.#zeroAgainAt),
      podMinutes: c.podMinutes(end),
      replicaChanges: this.#changes,
      peakReplicas: this.#peak,
      zeroWhileInFlight: this.#zeroWhileInFlight,
      deleted: c.deleted,
      receiveP50Ms: sorted[Math.floor(sorted.length / 2)],
    };
  }
}
