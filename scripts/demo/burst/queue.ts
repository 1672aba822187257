import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { BurstSetupError } from './errors.ts';

/** A received message, as DeleteMessageBatch wants it back. */
export interface ReceivedMessage {
  readonly Id: string;
  readonly ReceiptHandle: string;
}

/** The calls the simulated consumer makes. */
export interface ConsumerQueue {
  /** At most 10 messages, without waiting; they stay in flight for `visibilityTimeoutS`. */
  receive(max: number, visibilityTimeoutS: number): Promise<readonly ReceivedMessage[]>;
  /** Deletes up to 10 received messages; resolves with how many were deleted. */
  delete(messages: readonly ReceivedMessage[]): Promise<number>;
}

/**
 * The burst's SQS queue. Queue-changing calls (send, receive, delete, purge) go one at a time:
 * moto rewrites a queue's message list without a lock, so two deletes at once can bring a deleted
 * message back, two receives can hand out the same message and a send during a delete can be
 * lost. Reads (the depth) run freely.
 */
export class BurstQueue implements ConsumerQueue {
  readonly #sqs: SQSClient;
  #changes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly url: string,
    sqs?: SQSClient,
  ) {
    this.#sqs =
      sqs ??
      new SQSClient({
        // The manifests' queue URLs are AWS-shaped; with an endpoint override the requests must go there.
        useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
        maxAttempts: 3,
      });
  }

  #change<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#changes.then(change, change);
    this.#changes = next.catch(() => undefined);
    return next;
  }

  /** Visible and in-flight messages. Throws BurstSetupError naming the queue when it does not exist. */
  async depth(): Promise<{ readonly visible: number; readonly inFlight: number }> {
    try {
      const out = await this.#sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    } catch (error) {
      if (error instanceof Error && /QueueDoesNotExist|NonExistentQueue/.test(error.name)) {
        throw new BurstSetupError(
          `queue ${this.url} does not exist (scripts/local/example-shop.ts creates the shop's queues)`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** Sends up to 10 bodies in one SendMessageBatch; throws naming the queue if any entry failed. */
  async send(bodies: readonly string[]): Promise<void> {
    const out = await this.#change(() =>
      this.#sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.url,
          Entries: bodies.map((MessageBody, i) => ({ Id: `m${i}`, MessageBody })),
        }),
      ),
    );
    const failed = out.Failed ?? [];
    if (failed.length > 0) {
      throw new Error(
        `SendMessageBatch to ${this.url}: ${failed.length} entries failed (${failed[0]?.Message})`,
      );
    }
  }

  async receive(max: number, visibilityTimeoutS: number): Promise<readonly ReceivedMessage[]> {
    const out = await this.#change(() =>
      this.#sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.url,
          MaxNumberOfMessages: max,
          VisibilityTimeout: visibilityTimeoutS,
          WaitTimeSeconds: 0,
        }),
      ),
    );
    return (out.Messages ?? []).flatMap((m, i) =>
      m.ReceiptHandle === undefined ? [] : [{ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle }],
    );
  }

  async delete(messages: readonly ReceivedMessage[]): Promise<number> {
    if (messages.length === 0) return 0;
    const out = await this.#change(() =>
      this.#sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.url, Entries: [...messages] })),
    );
    return out.Successful?.length ?? 0;
  }

  async purge(): Promise<void> {
    await this.#change(() => this.#sqs.send(new PurgeQueueCommand({ QueueUrl: this.url })));
  }

  destroy(): void {
    this.#sqs.destroy();
  }
}
