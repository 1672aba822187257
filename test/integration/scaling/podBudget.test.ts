import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { targetAnnotations as a, namespaceAnnotations } from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import { SqsQueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import {
  adminCluster,
  deleteNamespace,
  roleArns,
  roleCluster,
  type TestCluster,
  testNamespace,
} from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';
import { kubectl } from '../manifests/cluster.ts';
import {
  createConsumer,
  createQueue,
  deleteQueue,
  grantScaler,
  replicasOf,
  runSelector,
  scalerEvents,
  sendMessages,
  sqs,
  testClock,
} from './scalerFixture.ts';

/**
 * The shop-wide consumer pod budget on the embedded stack: the budget an annotation on the real
 * Namespace, read by the scaler under its own identity and the manifests' RBAC (namespaces get),
 * queues in moto, the HeldByBudget Event as the admin lists it.
 */
let admin: TestCluster;
let scaler: ClusterClient;
let namespace: string;
let client: SQSClient;
const queueUrls: string[] = [];

beforeAll(async () => {
  embeddedEnv();
  admin = await adminCluster();
  namespace = await testNamespace(admin, 'budget');
  await grantScaler(admin, namespace);
  scaler = await roleCluster(roleArns.consumerScaler);
  client = sqs();
});

afterAll(async () => {
  await deleteNamespace(admin, namespace);
  await Promise.all(queueUrls.map((url) => deleteQueue(client, url)));
});

describe('consumerScaler and the namespace consumer pod budget', () => {
  it('holds a 10,000-product import to what the higher-priority consumer leaves of the budget', async () => {
    // Prepare: budget 12 on the namespace; the import (priority 0) has 400 messages at 20 per pod
    // (20 wanted), media (priority 10) 80 (4 wanted).
    kubectl(['annotate', 'namespace', namespace, `${namespaceAnnotations.consumerPodBudget}=12`]);
    const importQueue = await createQueue(client);
    const mediaQueue = await createQueue(client);
    queueUrls.push(importQueue, mediaQueue);
    await sendMessages(client, importQueue, 400);
    await sendMessages(client, mediaQueue, 80);
    const common = { replicas: 0, messagesPerPod: 20, maxReplicas: 20 };
    await createConsumer(admin, namespace, { name: 'product-updates', queueUrl: importQueue, ...common });
    await createConsumer(admin, namespace, {
      name: 'media',
      queueUrl: mediaQueue,
      ...common,
      extraAnnotations: { [a.priority]: '10' },
    });
    const telemetry = recordingTelemetry();
    const clock = testClock();

    // Act
    const result = await reconcilePass(runSelector, defaultPolicySettings, {
      cluster: scaler,
      signals: new SqsQueueSignals({ sqs: client, log: telemetry.log }),
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now: clock.now }),
      now: clock.now,
    });

    // Assess
    expect(result.failures).toEqual([]);
    expect(await replicasOf(scaler, namespace, 'media')).toBe(4);
    expect(await replicasOf(scaler, namespace, 'product-updates')).toBe(8);
    expect(scalerEvents(namespace, 'product-updates').find((e) => e.reason === 'HeldByBudget')?.message).toBe(
      'budget 12 pods: product-updates gets 8 of 20 wanted',
    );
    expect(scalerEvents(namespace, 'media').map((e) => e.reason)).not.toContain('HeldByBudget');
  });

  it('tells a malformed budget on each consumer Deployment (its key and the problem) and scales them unbudgeted', async () => {
    // Prepare: the same shop as above, its budget a typo.
    kubectl([
      'annotate',
      '--overwrite',
      'namespace',
      namespace,
      `${namespaceAnnotations.consumerPodBudget}=twelve`,
    ]);
    const telemetry = recordingTelemetry();
    const clock = testClock(Date.now() + 60_000);

    // Act
    const result = await reconcilePass(runSelector, defaultPolicySettings, {
      cluster: scaler,
      signals: new SqsQueueSignals({ sqs: client, log: telemetry.log }),
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now: clock.now }),
      now: clock.now,
    });

    // Assess: the import gets its own want again (20), and both Deployments say why.
    expect(result.failures).toEqual([]);
    expect(await replicasOf(scaler, namespace, 'product-updates')).toBe(20);
    for (const name of ['media', 'product-updates']) {
      const told = scalerEvents(namespace, name).filter((e) => e.reason === 'BudgetInvalid');
      expect(told.map((e) => [e.type, e.message])).toEqual([
        [
          'Warning',
          `annotation ${namespaceAnnotations.consumerPodBudget} on namespace ${namespace} must be a whole number from 0 to 10000, not "twelve"; scaled without the shop's pod budget until it is fixed`,
        ],
      ]);
    }
  });
});
