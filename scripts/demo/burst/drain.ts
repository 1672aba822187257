/** Who takes the burst's messages off its queue: the simulated consumer (KWOK) or the consumer pods. */
export interface BurstDrain {
  /** For the terminal and the report, e.g. "the consumer pods (bin/magento queue:consumers:start)". */
  readonly description: string;
  /** Messages processed so far. */
  readonly consumed: number;
  /** Called every 250 ms with the Deployment's Ready pods. */
  tick(readyPods: number): Promise<void>;
  /** The burst is over: finish what is in hand. */
  finish(): Promise<void>;
  /** What the consumers themselves recorded about this burst's messages, where they record it. */
  deliveries?(sent: number): BurstDeliveries;
}

/** This burst's messages as the consumers recorded them (the stand-in's m2_consumed_message). */
export interface BurstDeliveries {
  readonly sent: number;
  /** Distinct messages processed. */
  readonly processed: number;
  /** Deliveries beyond the first (a message processed twice counts once here). */
  readonly redelivered: number;
  /** Sent and never processed: lost, or still in the queue when the burst ended. */
  readonly missing: number;
  /** Pods that processed at least one of them. */
  readonly pods: number;
}
