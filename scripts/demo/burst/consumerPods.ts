import type { BurstDeliveries, BurstDrain } from './drain.ts';

/** Rows of a SQL query in the shop's database (scripts/local/mariadb.ts's shopRows). */
export type ShopQuery = (sql: string) => string[][];

/**
 * The burst drained by the consumer Deployment's own pods (real-node lane): the Magento stand-in's
 * `queue:consumers:start` receives from and deletes on the queue in moto, and records every message
 * it processed in m2_consumed_message (message id, pod, deliveries). This side only reads that table,
 * at most once a second, for the burst's messages (their bodies carry `"run":"<run>"`).
 */
export class ConsumerPods implements BurstDrain {
  readonly description: string;
  #consumed = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  readonly #filter: string;

  constructor(
    private readonly query: ShopQuery,
    run: string,
    deployment: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!/^[a-z0-9-]+$/.test(run)) throw new RangeError(`burst run id must be [a-z0-9-]+, not "${run}"`);
    this.#filter = `body LIKE '%"run":"${run}"%'`;
    this.description = `the pods of ${deployment} (bin/magento queue:consumers:start, batches of --max-messages)`;
  }

  get consumed(): number {
    return this.#consumed;
  }

  async tick(): Promise<void> {
    if (this.now() - this.#readAt < 1000) return;
    this.#readAt = this.now();
    this.#consumed = this.deliveries(0).processed;
  }

  /** The pods finish their own batches (consumers.yaml's preStop); nothing is held here. */
  async finish(): Promise<void> {}

  deliveries(sent: number): BurstDeliveries {
    const [processed = '0', redelivered = '0', pods = '0'] =
      this.query(
        `SELECT COUNT(*), COALESCE(SUM(deliveries - 1), 0), COUNT(DISTINCT host) FROM m2_consumed_message WHERE ${this.#filter}`,
      )[0] ?? [];
    const n = Number(processed);
    return {
      sent,
      processed: n,
      redelivered: Number(redelivered),
      missing: Math.max(0, sent - n),
      pods: Number(pods),
    };
  }
}
