import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { V1Deployment, V1Job, V1PodList } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageRepository } from '../../../lib/rollout/imageRef.ts';
import { queueNameOf } from '../../../lib/scaling/target.ts';
import {
  exampleShopNamespace,
  exampleShopQueues,
  upExampleShop,
} from '../../../scripts/local/example-shop.ts';
import { ensureShopSchema, type ShopDatabase, shopRows } from '../../../scripts/local/mariadb.ts';
import { eventually, roleArns, roleCluster, type TestCluster } from '../../helpers/cluster.ts';
import { kubectlJson } from '../manifests/cluster.ts';
import { invokeRollout, newJobId } from '../rollout/rolloutFixture.ts';

const namespace = exampleShopNamespace;
const consumer = 'm2-consumer-product-updates';
const messages = 6;
/** Work per message (the stand-in sleeps it out before it records and deletes the message). */
const workMs = 2000;

/**
 * A release with a migration while a consumer is in the middle of a batch, on real nodes: the quiet
 * window scales the consumer to 0, its pod's preStop drain (consumer-drain.sh) lets the PHP child
 * finish the messages it took, and only then does the migration Job start. Released with the image
 * the shop already runs, so the example shop is left as it was for the other real-node tests.
 */
describe('the quiet window drains a busy consumer before the migration (local-real overlay, M2_REAL_NODES=1)', () => {
  let rollout: TestCluster;
  let sqs: SQSClient;
  let db: ShopDatabase;

  beforeAll(async () => {
    rollout = await roleCluster(roleArns.rollout);
    sqs = new SQSClient({});
    await upExampleShop();
    db = ensureShopSchema(namespace);
  });

  afterAll(() => {
    sqs.destroy();
  });

  const consumed = (run: string): { id: string; deliveries: number }[] =>
    shopRows(
      db,
      `SELECT message_id, deliveries FROM m2_consumed_message WHERE body LIKE '%"run":"${run}"%'`,
    ).map(([id = '', deliveries = '0']) => ({ id, deliveries: Number(deliveries) }));

  it('starts the migration with no consumer pod and no message in flight, and loses none', async () => {
    // Prepare: a batch under way on the consumer.
    const target = exampleShopQueues().find((q) => q.deployment === consumer);
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: queueNameOf(target?.queueUrl ?? '') }),
    );
    const inFlight = async () =>
      (
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes;
    const run = `quiet-${Date.now().toString(36)}`;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: messages }, (_, i) => ({
          Id: `m${i}`,
          MessageBody: JSON.stringify({ product_ids: [i + 1], run, work_ms: workMs }),
        })),
      }),
    );
    await eventually('the consumer in the middle of the batch', async () => consumed(run)[0], 90_000);
    const replicasBefore = kubectlJson<V1Deployment>(['get', 'deployment', consumer, '-n', namespace]).spec
      ?.replicas;
    const web = kubectlJson<V1Deployment>(['get', 'deployment', 'm2-http', '-n', namespace]);
    const image = web.spec?.template.spec?.containers[0]?.image ?? '';
    const seen: { pods?: number; notVisible?: string; consumed?: number } = {};
    const cluster = new Proxy(rollout, {
      get(target, property) {
        if (property === 'createJob') {
          return async (ns: string, job: V1Job, options?: { signal?: AbortSignal }) => {
            if (job.metadata?.name?.startsWith('m2-migrate-') === true) {
              seen.pods = kubectlJson<V1PodList>([
                'get',
                'pods',
                '-n',
                namespace,
                '-l',
                `app.kubernetes.io/name=${consumer}`,
              ]).items.length;
              seen.notVisible = (await inFlight())?.ApproximateNumberOfMessagesNotVisible;
              seen.consumed = consumed(run).length;
            }
            return target.createJob(ns, job, options);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

    // Act
    const result = await invokeRollout(cluster, {
      id: newJobId(),
      params: { namespace, image, migrate: 'always', timeoutSeconds: 300 },
    });

    // Assess
    expect(imageRepository(image)).not.toBe('');
    expect(result.outcome).toBe('succeeded');
    expect(seen).toMatchObject({ pods: 0, notVisible: '0' });
    expect(kubectlJson<V1Deployment>(['get', 'deployment', consumer, '-n', namespace]).spec?.replicas).toBe(
      replicasBefore,
    );
    await eventually(
      'every message consumed and the queue empty',
      async () => {
        const a = await inFlight();
        const empty =
          a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0';
        return empty && consumed(run).length === messages ? true : undefined;
      },
      180_000,
    );
    const records = consumed(run);
    console.log(
      `quiet window: ${seen.consumed} of ${messages} messages done when the migration started, ` +
        `${records.reduce((sum, m) => sum + m.deliveries - 1, 0)} duplicate deliveries`,
    );
    expect(records.map((m) => m.id).sort()).toEqual(
      (sent.Successful ?? []).map((m) => m.MessageId ?? '').sort(),
    );
    expect(records.reduce((sum, m) => sum + m.deliveries - 1, 0)).toBe(0);
  });
});
