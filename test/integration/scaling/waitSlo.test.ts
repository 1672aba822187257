import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { targetAnnotations as a } from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import { SqsQueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import { queueNameOf } from '../../../lib/scaling/target.ts';
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
import {
  createConsumer,
  createQueue,
  deleteQueue,
  grantScaler,
  replicasOf,
  runSelector,
  sendMessages,
  sqs,
} from './scalerFixture.ts';

/**
 * The wait SLO against moto: moto's SQS publishes no CloudWatch metrics, so the test puts the
 * ApproximateAgeOfOldestMessage datapoint SQS would publish into moto's CloudWatch and the scaler
 * reads it back through GetMetricData, as it does on AWS.
 */
let admin: TestCluster;
let scaler: ClusterClient;
let namespace: string;
let client: SQSClient;
const queueUrls: string[] = [];

beforeAll(async () => {
  embeddedEnv();
  admin = await adminCluster();
  namespace = await testNamespace(admin, 'wait-slo');
  await grantScaler(admin, namespace);
  scaler = await roleCluster(roleArns.consumerScaler);
  client = sqs();
});

afterAll(async () => {
  await deleteNamespace(admin, namespace);
  await Promise.all(queueUrls.map((url) => deleteQueue(client, url)));
});

describe('consumerScaler and the max-wait-seconds SLO', () => {
  it('sizes a consumer from the age of its oldest message as CloudWatch reports it', async () => {
    // Prepare: 300 messages at 100 per pod (3 pods by backlog); 2 s each, 300 s SLO, the oldest has
    // waited 240 s at the end of the minute before now → 60 s left: 2 × 300 / 60 = 10 pods.
    const queueUrl = await createQueue(client);
    queueUrls.push(queueUrl);
    await sendMessages(client, queueUrl, 300);
    await createConsumer(admin, namespace, {
      name: 'product-updates',
      queueUrl,
      replicas: 0,
      messagesPerPod: 100,
      maxReplicas: 20,
      extraAnnotations: { [a.secondsPerMessage]: '2', [a.maxWaitSeconds]: '300' },
    });
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const cloudWatch = new CloudWatchClient({});
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/SQS',
        MetricData: [
          {
            MetricName: 'ApproximateAgeOfOldestMessage',
            Dimensions: [{ Name: 'QueueName', Value: queueNameOf(queueUrl) }],
            Timestamp: new Date(now - 60_000),
            Value: 240,
            Unit: 'Seconds',
          },
        ],
      }),
    );
    const telemetry = recordingTelemetry();
    const clock = () => now;

    // Act
    const result = await reconcilePass(runSelector, defaultPolicySettings, {
      cluster: scaler,
      signals: new SqsQueueSignals({ sqs: client, cloudWatch, log: telemetry.log, now: clock }),
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now: clock }),
      now: clock,
    });

    // Assess
    expect(result.failures).toEqual([]);
    expect(result.outcomes[0]?.decision.reason).toContain('max wait 300 s (oldest 240 s)');
    expect(await replicasOf(scaler, namespace, 'product-updates')).toBe(10);
  });
});
