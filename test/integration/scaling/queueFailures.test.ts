import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { readDeployment } from '../../../lib/k8s/deployments.ts';
import { stateAnnotations } from '../../../lib/scaling/annotations.ts';
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
import { createConsumer, grantScaler, replicasOf, runSelector, testClock } from './scalerFixture.ts';

/**
 * SQS throttling and access denial cannot be produced by moto on demand, so these tests mock
 * exactly the SQS client; the Deployments, RBAC and writes are the real embedded cluster.
 */
let admin: TestCluster;
let scaler: ClusterClient;
let namespace: string;

beforeAll(async () => {
  embeddedEnv();
  admin = await adminCluster();
  namespace = await testNamespace(admin, 'scaler-fail');
  await grantScaler(admin, namespace);
  scaler = await roleCluster(roleArns.consumerScaler);
});

afterAll(async () => {
  await deleteNamespace(admin, namespace);
});

const failure = (name: string, status: number): Error =>
  Object.assign(new Error(`${name} (simulated)`), { name, $metadata: { httpStatusCode: status } });

describe('consumerScaler when SQS fails', () => {
  it.each([
    ['throttled', failure('ThrottlingException', 400)],
    ['throttled', failure('RequestThrottled', 403)],
    ['denied', failure('AccessDeniedException', 403)],
    ['denied', failure('AccessDenied', 403)],
  ])('keeps replicas unchanged and counts QueueReadErrors{reason=%s} (%s)', async (reason, error) => {
    // Prepare: a consumer whose state says it would go to zero on an empty reading.
    const name = `sqs-${reason}-${error.name.toLowerCase()}`;
    const clock = testClock();
    const idleSince = clock.now() - 3_600_000;
    await createConsumer(admin, namespace, {
      name,
      queueUrl: `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`,
      replicas: 3,
      extraAnnotations: {
        [stateAnnotations.state]: JSON.stringify({
          v: 1,
          emptyReads: 2,
          busyReads: 0,
          lastReadAt: idleSince,
          lastActiveAt: idleSince,
          peaks: [{ replicas: 0, at: idleSince }],
        }),
      },
    });
    const client = new SQSClient({ region: 'us-east-1', maxAttempts: 1 });
    const sqs = mockClient(client);
    sqs.on(GetQueueAttributesCommand).rejects(error);
    const telemetry = recordingTelemetry();

    // Act
    const result = await reconcilePass(`${runSelector},app=${name}`, defaultPolicySettings, {
      cluster: scaler,
      signals: new SqsQueueSignals({ sqs: client, log: telemetry.log }),
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now: clock.now }),
      now: clock.now,
    });

    // Assess
    expect(result.failures).toEqual([]);
    expect(await replicasOf(admin, namespace, name)).toBe(3);
    expect(telemetry.counts.get(`QueueReadErrors{reason=${reason}}`)).toBe(1);
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'queue depth unreadable; holding its targets' }),
    );
    const deployment = await readDeployment(admin, { namespace, name });
    expect(deployment.metadata?.annotations?.[stateAnnotations.lastReason]).toBeUndefined();
    sqs.restore();
  });
});
