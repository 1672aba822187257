import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { logNormal, type Random } from '../../scalerSim/random.ts';

/** What one consumer pod does, as the manifests' consumer-run.sh loop and the simulator's platform say. */
export interface ConsumerModel {
  /** Median seconds per message (log-normal, sigma 0.3). */
  readonly secondsPerMessage: number;
  /** `--max-messages`: one batch. */
  readonly maxMessages: number;
  /** `queue:consumers:start` bootstrap before a batch. */
  readonly bootstrapSeconds: number;
  /** The wrapper's pause after each batch. */
  readonly pauseSeconds: number;
  /** From the pod's creation until its container runs (scheduling, image, start), seconds. */
  readonly startSeconds: (random: Random) => number;
}

/** One pod's life as the bench saw it (epoch ms). */
export interface PodLife {
  readonly createdAt: number;
  /** When the pod was seen deleted or gone. */
  stopAskedAt: number | undefined;
  /** When its consumer exited (after finishing its batch); undefined while it runs. */
  exitedAt: number | undefined;
  /** Messages it holds right now (received, not yet deleted). */
  holding: number;
}

/**
 * The consumers of KWOK's pods: no container runs there, so for every pod of the Deployment the bench
 * runs the consumer loop itself against the real queue — start latency, bootstrap, a batch of up to
 * `maxMessages` received at once, each "processed" (a sleep of its sampled service time), the batch
 * deleted at its end, the pause; a pod asked to stop ends at once unless a batch is running, which
 * it finishes first (the SIGTERM wrapper). A pod's minutes run until its consumer exits.
 */
export class PodConsumers {
  readonly pods = new Map<string, PodLife>();
  deleted = 0;
  lastDeleteAt: number | undefined;
  /** Durations of the receive calls (ms): how loaded moto was. */
  readonly receiveMs: number[] = [];
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;
  readonly #model: ConsumerModel;
  readonly #random: Random;
  readonly #running = new Set<Promise<void>>();

  constructor(options: { sqs: SQSClient; queueUrl: string; model: ConsumerModel; random: Random }) {
    this.#sqs = options.sqs;
    this.#queueUrl = options.queueUrl;
    this.#model = options.model;
    this.#random = options.random;
  }

  /** Starts a consumer for each new pod and asks those whose pod is deleting or gone to stop. */
  sync(pods: readonly { name: string; createdAt: number; deleting: boolean }[], now: number): void {
    const present = new Set<string>();
    for (const pod of pods) {
      present.add(pod.name);
      let life = this.pods.get(pod.name);
      if (life === undefined) {
        life = { createdAt: pod.createdAt, stopAskedAt: undefined, exitedAt: undefined, holding: 0 };
        this.pods.set(pod.name, life);
        const run = this.#consume(life).finally(() => this.#running.delete(run));
        this.#running.add(run);
      }
      if (pod.deleting) life.stopAskedAt ??= now;
    }
    for (const [name, life] of this.pods) if (!present.has(name)) life.stopAskedAt ??= now;
  }

  /** Consumers still running (their pod exists or they are finishing a batch). */
  get alive(): number {
    let n = 0;
    for (const life of this.pods.values()) if (life.exitedAt === undefined) n++;
    return n;
  }

  get holding(): number {
    let n = 0;
    for (const life of this.pods.values()) n += life.holding;
    return n;
  }

  /** Pod-minutes: every pod from its creation until its consumer exited (or `end`). */
  podMinutes(end: number): number {
    let ms = 0;
    for (const life of this.pods.values()) ms += (life.exitedAt ?? end) - life.createdAt;
    return ms / 60_000;
  }

  /** Asks every consumer to stop and waits for their batches. */
  async stopAll(now: number): Promise<void> {
    for (const life of this.pods.values()) life.stopAskedAt ??= now;
    await Promise.all(this.#running);
  }

  async #consume(life: PodLife): Promise<void> {
    const m = this.#model;
    const stopping = (): boolean => life.stopAskedAt !== undefined;
    try {
      await this.#sleepUntil(life.createdAt + m.startSeconds(this.#random) * 1000, stopping);
      while (!stopping()) {
        await sleep(m.bootstrapSeconds * 1000);
        await this.#batch(life);
        if (stopping()) break;
        await this.#sleepUntil(Date.now() + m.pauseSeconds * 1000, stopping);
      }
    } finally {
      life.exitedAt = Date.now();
    }
  }

  async #batch(life: PodLife): Promise<void> {
    const t0 = Date.now();
    const { Messages = [] } = await this.#sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#queueUrl,
        MaxNumberOfMessages: this.#model.maxMessages,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
      }),
    );
    this.receiveMs.push(Date.now() - t0);
    life.holding = Messages.length;
    for (const _ of Messages) await sleep(logNormal(this.#random, this.#model.secondsPerMessage, 0.3) * 1000);
    // The batch is acknowledged at its end in one call, not one call per message: three lanes of
    // 100 consumers each saturated moto on this machine (receive p50 6.5 s) with per-message
    // deletes. The messages stay in flight until then, and both scalers count in-flight messages.
    // An empty receive ends the batch: nothing was consumed, so it is no delete either.
    if (Messages.length === 0) return;
    await this.#sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.#queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
    life.holding = 0;
    this.deleted += Messages.length;
    this.lastDeleteAt = Date.now();
  }

  /** Sleeps until `at`, waking early (within 0.5 s) when `stop` says so. */
  async #sleepUntil(at: number, stop: () => boolean): Promise<void> {
    while (Date.now() < at && !stop()) await sleep(Math.max(1, Math.min(500, at - Date.now())));
  }
}
