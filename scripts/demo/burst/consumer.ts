import type { BurstDrain } from './drain.ts';
import { consumeQuota } from './model.ts';
import type { ConsumerQueue, ReceivedMessage } from './queue.ts';

export interface SimulatedConsumerOptions {
  /** Messages one Ready pod processes per second. */
  readonly ratePerReadyPod: number;
  /** How long a received message is processed (stays in flight) before it is deleted. */
  readonly processingMs: number;
  /** Visibility timeout of a receive: longer than any processing, so nothing is delivered twice. */
  readonly visibilityTimeoutS?: number;
  readonly now?: () => number;
}

/**
 * The consumer Deployment's pods, simulated: on every tick it receives Ready pods × rate × elapsed
 * messages (see consumeQuota) and deletes each batch `processingMs` after receiving it, as a
 * Magento consumer acknowledges a message once processed. Nothing runs in the pods themselves
 * (KWOK only plays their lifecycle), so the Deployment's Ready count is what drives the rate.
 */
export class SimulatedConsumer implements BurstDrain {
  #consumed = 0;
  #carry = 0;
  #last: number | undefined;
  readonly #processing: { readonly due: number; readonly messages: readonly ReceivedMessage[] }[] = [];
  readonly #now: () => number;

  constructor(
    private readonly queue: ConsumerQueue,
    private readonly options: SimulatedConsumerOptions,
  ) {
    this.#now = options.now ?? (() => performance.now());
  }

  get description(): string {
    return `a simulated consumer, ${this.options.ratePerReadyPod} msg/s per Ready pod`;
  }

  /** Messages deleted so far. */
  get consumed(): number {
    return this.#consumed;
  }

  /** Received and not yet deleted. */
  get processing(): number {
    return this.#processing.reduce((n, b) => n + b.messages.length, 0);
  }

  /** One step of the pods: take this tick's share of messages, delete what is processed. */
  async tick(readyPods: number): Promise<void> {
    const now = this.#now();
    const quota = consumeQuota({
      readyPods,
      elapsedMs: this.#last === undefined ? 0 : now - this.#last,
      ratePerReadyPod: this.options.ratePerReadyPod,
      carry: this.#carry,
    });
    this.#last = now;
    this.#carry = quota.carry;
    for (let left = quota.take; left > 0; ) {
      const messages = await this.queue.receive(Math.min(10, left), this.options.visibilityTimeoutS ?? 60);
      // An empty queue: the rest of the share is not banked.
      if (messages.length === 0) break;
      this.#processing.push({ due: this.#now() + this.options.processingMs, messages });
      left -= messages.length;
    }
    await this.#deleteProcessed(false);
  }

  /** Finishes every message being processed (as a pod's preStop lets its batch finish). */
  finish(): Promise<void> {
    return this.#deleteProcessed(true);
  }

  async #deleteProcessed(all: boolean): Promise<void> {
    const now = this.#now();
    while (this.#processing.length > 0) {
      const batch = this.#processing[0];
      if (batch === undefined || (!all && batch.due > now)) break;
      this.#consumed += await this.queue.delete(batch.messages);
      this.#processing.shift();
    }
  }
}
