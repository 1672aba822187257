import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNameOf } from '../../../lib/scaling/target.ts';
import {
  exampleShopNamespace,
  exampleShopQueues,
  upExampleShop,
} from '../../../scripts/local/example-shop.ts';
import { ensureShopSchema, shopRows } from '../../../scripts/local/mariadb.ts';
import { adminCluster, eventually, type TestCluster } from '../../helpers/cluster.ts';

const namespace = exampleShopNamespace;
const zoneLabel = 'topology.kubernetes.io/zone';

const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const get = (url: string): Promise<Response> => fetch(url, { signal: AbortSignal.timeout(10_000) });

/**
 * `npm run local:example-shop` with M2_REAL_NODES=1 (the local-real overlay), as a developer runs it:
 * issue 14's "done when". The shop is left running for whoever uses it next (the traffic bench).
 */
describe('the example shop on the real nodes (local-real overlay, M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let sqs: SQSClient;

  beforeAll(async () => {
    admin = await adminCluster();
    sqs = new SQSClient({});
    await upExampleShop();
  });

  afterAll(() => {
    sqs.destroy();
  });

  it('runs m2-http Ready on three real nodes in three zones, each answering / and /healthz with 200 on its pod IP', async () => {
    // Prepare
    const pods = await eventually(
      'three Ready m2-http pods',
      async () => {
        const list = await admin.core.listNamespacedPod({
          namespace,
          labelSelector: 'app.kubernetes.io/name=m2-http',
        });
        const ready = list.items.filter((p) => isReady(p) && p.metadata?.deletionTimestamp === undefined);
        return ready.length === 3 ? ready : undefined;
      },
      180_000,
    );
    const nodes = await Promise.all(pods.map((p) => admin.core.readNode({ name: p.spec?.nodeName ?? '' })));

    // Act
    const answers = await Promise.all(
      pods.flatMap((p) =>
        ['/', '/healthz'].map(async (path) => {
          const res = await get(`http://${p.status?.podIP ?? ''}:8080${path}`);
          return { path, status: res.status, body: await res.text() };
        }),
      ),
    );

    // Assess
    expect(nodes.map((n) => n.metadata?.labels?.type)).toEqual(['real', 'real', 'real']);
    expect(new Set(nodes.map((n) => n.metadata?.labels?.[zoneLabel])).size).toBe(3);
    expect(pods.map((p) => p.status?.podIP)).toEqual(
      pods.map(() => expect.stringMatching(/^10\.89\.[1-9]\.\d+$/)),
    );
    expect(answers.map((a) => [a.path, a.status])).toEqual(
      pods.flatMap(() => [
        ['/', 200],
        ['/healthz', 200],
      ]),
    );
    // The home page is rendered from the shop's database (the migration Job installed it).
    expect(answers.filter((a) => a.path === '/').map((a) => a.body)).toEqual(
      pods.map(() => expect.stringContaining('Joust Duffle Bag')),
    );
  });

  it('answers through the Service ClusterIP (kube-proxy) with 200', async () => {
    // Prepare
    const service = await admin.core.readNamespacedService({ namespace, name: 'm2-http' });
    const port = service.spec?.ports?.find((p) => p.name === 'http')?.port ?? 80;

    // Act
    const statuses = await Promise.all(
      Array.from(
        { length: 9 },
        async () => (await get(`http://${service.spec?.clusterIP ?? ''}:${port}/`)).status,
      ),
    );

    // Assess
    expect(service.spec?.clusterIP).toMatch(/^10\.96\./);
    expect(statuses).toEqual(Array(9).fill(200));
  });

  it('consumes every message sent to a consumer queue in moto: the queue empties, the consumer logs name each one', async () => {
    // Prepare
    const target = exampleShopQueues().find((q) => q.deployment === 'm2-consumer-product-updates');
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: queueNameOf(target?.queueUrl ?? '') }),
    );
    const run = Date.now().toString(36);
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 8 }, (_, i) => ({
          Id: `m${i}`,
          MessageBody: JSON.stringify({ product_ids: [i + 1], attributes: { status: 1 }, run }),
        })),
      }),
    );
    const ids = (sent.Successful ?? []).map((m) => m.MessageId ?? '');

    // Act
    await eventually(
      'the product-updates queue to be empty',
      async () => {
        const { Attributes: a } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0'
          ? true
          : undefined;
      },
      120_000,
    );
    const pods = await admin.core.listNamespacedPod({
      namespace,
      labelSelector: 'app.kubernetes.io/name=m2-consumer-product-updates',
    });
    const logs = (
      await Promise.all(
        pods.items.map((p) => admin.core.readNamespacedPodLog({ namespace, name: p.metadata?.name ?? '' })),
      )
    ).join('\n');
    const db = ensureShopSchema(namespace);
    const recorded = shopRows(
      db,
      `SELECT message_id FROM m2_consumed_message WHERE body LIKE '%"run":"${run}"%' ORDER BY message_id`,
    ).map(([id]) => id);

    // Assess
    expect(ids).toHaveLength(8);
    expect(pods.items.map((p) => p.spec?.nodeName)).toEqual(
      pods.items.map(() => expect.stringMatching(/^m2-real-/)),
    );
    for (const id of ids)
      expect(logs).toContain(`consumer product_action_attribute.update processed message ${id}`);
    expect(recorded).toEqual([...ids].sort());
  });
});
