import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNameOf } from '../../../lib/scaling/target.ts';
import {
  exampleShopNamespace,
  exampleShopQueues,
  upExampleShop,
} from '../../../scripts/local/example-shop.ts';
import { ensureShopSchema, type ShopDatabase, shopRows } from '../../../scripts/local/mariadb.ts';
import { adminCluster, eventually, type TestCluster } from '../../helpers/cluster.ts';

const namespace = exampleShopNamespace;
const messages = 6;
/** Work per message (the stand-in sleeps it out before it records and deletes the message). */
const workMs = 2000;

/**
 * A consumer pod deleted in the middle of a batch, on a real node: consumers.yaml's wrapper
 * (consumer-run.sh as PID 1) and preStop drain (consumer-drain.sh) against the stand-in, which like
 * Magento dies on SIGTERM with its message unacknowledged (bin/magento, consume()). The kubelet runs
 * preStop, then signals PID 1 only; the PHP child must finish its batch.
 */
describe('a consumer pod deleted in the middle of a batch (local-real overlay, M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let sqs: SQSClient;
  let db: ShopDatabase;

  beforeAll(async () => {
    admin = await adminCluster();
    sqs = new SQSClient({});
    await upExampleShop();
    db = ensureShopSchema(namespace);
  });

  afterAll(() => {
    sqs.destroy();
  });

  /** message id, host (pod name) and deliveries of this run's messages, as the consumers recorded them. */
  const consumed = (run: string): { id: string; host: string; deliveries: number }[] =>
    shopRows(
      db,
      `SELECT message_id, host, deliveries FROM m2_consumed_message WHERE body LIKE '%"run":"${run}"%'`,
    ).map(([id = '', host = '', deliveries = '0']) => ({ id, host, deliveries: Number(deliveries) }));

  it('loses no message: every one is processed at least once and the queue ends empty', async () => {
    // Prepare
    const target = exampleShopQueues().find((q) => q.deployment === 'm2-consumer-product-updates');
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: queueNameOf(target?.queueUrl ?? '') }),
    );
    const run = `drain-${Date.now().toString(36)}`;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: messages }, (_, i) => ({
          Id: `m${i}`,
          MessageBody: JSON.stringify({ product_ids: [i + 1], run, work_ms: workMs }),
        })),
      }),
    );
    const ids = (sent.Successful ?? []).map((m) => m.MessageId ?? '').sort();
    // The first message done tells which pod holds the batch, and that the batch is under way.
    const busy = await eventually(
      'a consumer pod in the middle of the batch',
      async () => consumed(run)[0],
      90_000,
    );

    // Act
    await admin.core.deleteNamespacedPod({ namespace, name: busy.host });
    const doneAtDeletion = consumed(run).filter((m) => m.host === busy.host).length;
    await eventually(
      'every message consumed and the queue empty',
      async () => {
        const { Attributes: a } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        const empty =
          a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0';
        return empty && consumed(run).length === messages ? true : undefined;
      },
      180_000,
    );
    const records = consumed(run);
    const duplicates = records.reduce((sum, m) => sum + m.deliveries - 1, 0);
    console.log(
      `consumer drain: ${messages} messages, ${doneAtDeletion} done by ${busy.host} when it was deleted, ` +
        `${records.filter((m) => m.host === busy.host).length} by it in the end, ${duplicates} duplicate deliveries`,
    );

    // Assess
    expect(ids).toHaveLength(messages);
    expect(records.map((m) => m.id).sort()).toEqual(ids);
    // The deleted pod went on with its batch after the deletion instead of dying with it.
    expect(records.filter((m) => m.host === busy.host).length).toBeGreaterThan(doneAtDeletion);
    expect(duplicates).toBe(0);
  });
});
