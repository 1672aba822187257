import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Sends `count` small product-update messages, 10 per batch, 16 batches at a time. */
export async function sendMessages(client: SQSClient, queueUrl: string, count: number): Promise<void> {
  const batches = Math.ceil(count / 10);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let b = next++; b < batches; b = next++) {
      const size = Math.min(10, count - b * 10);
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: size }, (_, i) => ({
            Id: `m${i}`,
            MessageBody: `{"product_id":${b * 10 + i}}`,
          })),
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
