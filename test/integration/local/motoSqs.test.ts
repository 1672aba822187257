import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The embedded SQS (moto through scripts/local/moto-server.py) at the depths the demo and the scaler
 * tests use: deep queues stay exact, and parallel consumers never get deleted messages back (moto
 * itself rebuilds a queue's list without a lock on delete — about 1 in 5 messages reappeared).
 */
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
let queueUrl = '';

async function attributes(): Promise<Record<string, string>> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
  return out.Attributes ?? {};
}

beforeAll(async () => {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: `moto-sqs-${Date.now()}` }));
  queueUrl = created.QueueUrl ?? '';
});

afterAll(async () => {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
});

describe('embedded SQS', () => {
  it('holds 5,000 messages, counted exactly', async () => {
    // Act: 500 batches, 20 at a time.
    for (let round = 0; round < 25; round++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, b) =>
          sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: Array.from({ length: 10 }, (_, i) => ({
                Id: `m${i}`,
                MessageBody: `${round}-${b}-${i}`,
              })),
            }),
          ),
        ),
      );
    }

    // Assess
    expect(await attributes()).toMatchObject({
      ApproximateNumberOfMessages: '5000',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('lets 8 parallel consumers drain it: every message at least once, duplicates rare, nothing comes back', async () => {
    // Act
    const seen = new Map<string, number>();
    let deleted = 0;
    const consumer = async (): Promise<void> => {
      for (;;) {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }),
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) return;
        for (const m of messages) seen.set(m.Body ?? '', (seen.get(m.Body ?? '') ?? 0) + 1);
        const out = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        deleted += out.Successful?.length ?? 0;
      }
    };
    await Promise.all(Array.from({ length: 8 }, consumer));

    // Assess: every message reached a consumer. A standard queue delivers at least once, and under
    // 8 concurrent receivers moto (like SQS) now and then hands one message to two of them: rare,
    // and harmless when each delete succeeds — what must never happen is a message coming back.
    const repeated = [...seen.values()].filter((n) => n > 1).length;
    expect(seen.size).toBe(5000);
    expect(deleted).toBeGreaterThanOrEqual(5000);
    expect(repeated).toBeLessThanOrEqual(5);
    expect(await attributes()).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });
});
