import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsScaledObject } from '../../../scripts/local/kedaScaledObject.ts';
import {
  adminCluster,
  deleteNamespace,
  eventually,
  type TestCluster,
  testDeployment,
  testNamespace,
} from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectl, kubectlJson } from '../manifests/cluster.ts';
import { createQueue, deleteQueue, replicasOf, sendMessages, sqs } from './scalerFixture.ts';

/**
 * Real KEDA (M2_KEDA=1 local:up: its operator, its metrics server behind the apiserver's aggregation
 * layer, kube-controller-manager's HPA controller) scaling a Deployment on a moto queue through its
 * aws-sqs-queue scaler. KWOK plays the pods; nothing consumes, the test drains the queue itself.
 * Collected only with M2_KEDA=1 (vitest.config.ts).
 */
let admin: TestCluster;
let namespace: string;
let client: SQSClient;
let queueUrl: string;
const consumer = 'keda-consumer';

interface Hpa {
  status?: {
    currentMetrics?: { external?: { current?: { averageValue?: string } } }[];
  };
}

interface Condition {
  type: string;
  status: string;
}

beforeAll(async () => {
  embeddedEnv();
  admin = await adminCluster();
  namespace = await testNamespace(admin, 'keda');
  client = sqs();
  queueUrl = await createQueue(client);
  await admin.apps.createNamespacedDeployment({
    namespace,
    body: testDeployment(consumer, 'magento:2.4.8', 0),
  });
  kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: sqsScaledObject({
        name: consumer,
        namespace,
        deployment: consumer,
        queueUrl,
        queueLength: 5,
        minReplicas: 0,
        maxReplicas: 10,
        // Short, so the test sees the way back to zero within a minute or so.
        tuning: {
          pollingIntervalSeconds: 5,
          cooldownPeriodSeconds: 15,
          behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
        },
      }),
    }),
  });
});

afterAll(async () => {
  // The ScaledObject first, while KEDA runs: its finalizer removes the HPA it made.
  if (namespace !== undefined) {
    kubectl(['-n', namespace, 'delete', 'scaledobject', consumer, '--ignore-not-found', '--wait=true']);
    await deleteNamespace(admin, namespace);
  }
  if (queueUrl !== undefined) await deleteQueue(client, queueUrl);
});

async function drain(): Promise<void> {
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) break;
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  expect(
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  ).toBe(0);
}

describe('KEDA aws-sqs-queue on the embedded cluster', () => {
  it('scales a Deployment up from zero when messages arrive and back to zero when drained', async () => {
    // Prepare: KEDA has read the empty queue (Ready) and holds the Deployment at zero.
    await eventually(
      'ScaledObject Ready',
      async () => {
        const so = kubectlJson<{ status?: { conditions?: Condition[] } }>([
          '-n',
          namespace,
          'get',
          'scaledobject',
          consumer,
        ]);
        return so.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      },
      90_000,
    );
    expect(await replicasOf(admin, namespace, consumer)).toBe(0);

    // Act: 20 messages at queueLength 5.
    await sendMessages(client, queueUrl, 20);

    // Assess: KEDA activates the Deployment (0 → 1) and the HPA, reading the external metric through
    // the aggregation layer, takes it to ⌈20 / 5⌉ = 4, with 5 messages per pod as its current value.
    await eventually(
      '4 replicas',
      async () => ((await replicasOf(admin, namespace, consumer)) === 4 ? true : undefined),
      180_000,
    );
    // (The HPA's next sync divides by the 4 replicas it set.)
    const perPod = await eventually(
      'the HPA reading 5 messages per pod',
      async () => {
        const hpa = kubectlJson<Hpa>(['-n', namespace, 'get', 'hpa', `keda-hpa-${consumer}`]);
        const value = hpa.status?.currentMetrics?.[0]?.external?.current?.averageValue;
        return value === '5' ? value : undefined;
      },
      60_000,
    );
    expect(perPod).toBe('5');

    // Act: the work is done.
    await drain();

    // Assess: after the cooldown without activity KEDA takes it back to zero.
    await eventually(
      '0 replicas',
      async () => ((await replicasOf(admin, namespace, consumer)) === 0 ? true : undefined),
      180_000,
    );
  }, 480_000);
});
