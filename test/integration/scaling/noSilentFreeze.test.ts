import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { ForbiddenError } from '../../../lib/k8s/errors.ts';
import { createEvent } from '../../../lib/k8s/events.ts';
import { updateScale } from '../../../lib/k8s/scale.ts';
import { targetAnnotations } from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import { SqsQueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { type PassDeps, reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import {
  adminCluster,
  deleteNamespace,
  eventually,
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
 * Misconfiguration is told, not frozen: Events on the Deployment under the scaler's own identity
 * (RBAC and the admission policy of the manifests apply), read back with the real kubectl.
 */
let admin: TestCluster;
let scaler: ClusterClient;
let namespace: string;
let client: SQSClient;
const queueUrls: string[] = [];

beforeAll(async () => {
  embeddedEnv();
  admin = await adminCluster();
  namespace = await testNamespace(admin, 'scaler-told');
  await grantScaler(admin, namespace);
  scaler = await roleCluster(roleArns.consumerScaler);
  client = sqs();
});

afterAll(async () => {
  await deleteNamespace(admin, namespace);
  await Promise.all(queueUrls.map((url) => deleteQueue(client, url)));
});

const unknownQueue = 'https://sqs.us-east-1.amazonaws.com/123456789012/scaler-it-no-such-queue';

const passDeps = (
  now: () => number,
  telemetry: ReturnType<typeof recordingTelemetry>,
  events: EventRecorder,
): PassDeps => ({
  cluster: scaler,
  signals: new SqsQueueSignals({ sqs: client, log: telemetry.log }),
  log: telemetry.log,
  metrics: telemetry.metrics,
  events,
  now,
});

describe('consumerScaler on bad input', () => {
  it('tells a malformed annotation and an unknown queue on their Deployments and still scales the good one', async () => {
    // Prepare: three Deployments; one out-of-range number, one queue URL nobody created, one good.
    const queueUrl = await createQueue(client);
    queueUrls.push(queueUrl);
    await sendMessages(client, queueUrl, 60);
    await createConsumer(admin, namespace, {
      name: 'bad-range',
      queueUrl,
      replicas: 1,
      maxReplicas: 5000,
    });
    await createConsumer(admin, namespace, { name: 'bad-queue', queueUrl: unknownQueue, replicas: 0 });
    await createConsumer(admin, namespace, { name: 'good', queueUrl, replicas: 0, messagesPerPod: 25 });
    const telemetry = recordingTelemetry();
    const clock = testClock();

    // Act
    const result = await reconcilePass(
      `${runSelector},app in (bad-range,bad-queue,good)`,
      defaultPolicySettings,
      passDeps(clock.now, telemetry, new EventRecorder({ now: clock.now })),
    );

    // Assess: the good one scaled, the others untouched; nothing failed.
    expect(result.failures).toEqual([]);
    expect(await replicasOf(admin, namespace, 'good')).toBe(3);
    expect(await replicasOf(admin, namespace, 'bad-range')).toBe(1);
    expect(await replicasOf(admin, namespace, 'bad-queue')).toBe(0);
    // Logs name the Deployment and the annotation key.
    expect(telemetry.lines).toContainEqual({
      level: 'warn',
      message: 'scaling target skipped: malformed annotation',
      fields: expect.objectContaining({ deployment: 'bad-range', annotation: targetAnnotations.maxReplicas }),
    });
    expect(telemetry.lines).toContainEqual({
      level: 'warn',
      message: 'scaling target held: queue unreadable',
      fields: expect.objectContaining({
        deployment: 'bad-queue',
        annotation: targetAnnotations.queueUrl,
        failure: 'not-found',
      }),
    });
    // Events on each Deployment, the kind kubectl describe lists.
    expect(scalerEvents(namespace, 'bad-range')).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'AnnotationInvalid',
        message: expect.stringContaining(targetAnnotations.maxReplicas),
        involvedObject: expect.objectContaining({ kind: 'Deployment', name: 'bad-range' }),
      }),
    ]);
    expect(scalerEvents(namespace, 'bad-queue')).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'QueueUnreadable',
        message: expect.stringMatching(
          /scaler-it-no-such-queue.*scaling\.m2-eks-pipeline\.io\/queue-url.*not-found/,
        ),
      }),
    ]);
    expect(scalerEvents(namespace, 'good')).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'ScaledUp',
        message: expect.stringContaining('from 0 to 3'),
      }),
    ]);
    // The story as an operator reads it.
    const described = kubectl(['describe', 'deployment', 'bad-queue', '-n', namespace]);
    expect(described).toMatch(/Warning\s+QueueUnreadable/);
  });

  it('raises an unreadable queue to its fallback floor after the declared readings, and not before', async () => {
    // Prepare: at zero with a backlog nobody can see (the queue URL is wrong).
    await createConsumer(admin, namespace, {
      name: 'fallback',
      queueUrl: unknownQueue,
      replicas: 0,
      extraAnnotations: {
        [targetAnnotations.fallbackReplicas]: '2',
        [targetAnnotations.fallbackAfterReads]: '3',
      },
    });
    const telemetry = recordingTelemetry();
    const clock = testClock();
    const deps = passDeps(clock.now, telemetry, new EventRecorder({ now: clock.now }));
    const pass = async (): Promise<number | undefined> => {
      await reconcilePass(`${runSelector},app=fallback`, defaultPolicySettings, deps);
      return replicasOf(admin, namespace, 'fallback');
    };

    // Act + Assess, in simulated time.
    expect(await pass()).toBe(0); // 1 of 3
    clock.advance(2_000);
    expect(await pass()).toBe(0); // too close to the last to count
    clock.advance(8_000);
    expect(await pass()).toBe(0); // 2 of 3
    clock.advance(10_000);
    expect(await pass()).toBe(2); // 3 of 3: the floor
    clock.advance(600_000);
    expect(await pass()).toBe(2); // never down without a reading
    const reasons = scalerEvents(namespace, 'fallback').map((e) => e.reason);
    expect(reasons).toContain('ScaledUp');
    expect(reasons).toContain('QueueUnreadable');
  });

  it('aggregates a repeated Event into one object with a count instead of one per pass', async () => {
    // Prepare
    await createConsumer(admin, namespace, { name: 'stuck', queueUrl: unknownQueue, replicas: 1 });
    const telemetry = recordingTelemetry();
    const clock = testClock();
    const deps = passDeps(clock.now, telemetry, new EventRecorder({ now: clock.now }));

    // Act: 13 passes 5 s apart (a busy invocation's loop), then one more a minute after the first.
    for (let i = 0; i < 13; i++) {
      await reconcilePass(`${runSelector},app=stuck`, defaultPolicySettings, deps);
      clock.advance(5_000);
    }

    // Assess: one Event; its count written at the minute (the 13th occurrence).
    const events = scalerEvents(namespace, 'stuck');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: 'QueueUnreadable', count: 13 });
    expect(telemetry.counts.get('QueueReadErrors{reason=not-found}')).toBe(13);
  });

  it('tells a scale write another admission policy refuses as ReconcileFailed on that Deployment', async () => {
    // Prepare: a policy of the cluster's own (a team quota, say) refuses one Deployment's scale writes.
    const queueUrl = await createQueue(client);
    queueUrls.push(queueUrl);
    await sendMessages(client, queueUrl, 60);
    await createConsumer(admin, namespace, { name: 'refused', queueUrl, replicas: 0, messagesPerPod: 25 });
    // Probed on a Deployment of its own, so the probe's writes before the policy loads change nothing here.
    await createConsumer(admin, namespace, { name: 'quota-probe', queueUrl: unknownQueue, replicas: 0 });
    const policy = `m2-test-quota-${namespace}`;
    kubectl(['apply', '-f', '-'], { input: quotaPolicy(policy, namespace, ['refused', 'quota-probe']) });
    try {
      await eventually('the test policy enforced', async () => {
        const refused = await updateScale(
          admin,
          { namespace, name: 'quota-probe' },
          (s) => s.replicas + 1,
        ).catch((error: unknown) => error);
        return refused instanceof ForbiddenError ? true : undefined;
      });
      const telemetry = recordingTelemetry();
      const clock = testClock();

      // Act
      const result = await reconcilePass(
        `${runSelector},app=refused`,
        defaultPolicySettings,
        passDeps(clock.now, telemetry, new EventRecorder({ now: clock.now })),
      );

      // Assess: the failure is the pass's, told on the Deployment; replicas left as they were.
      expect(result.failures).toEqual([
        expect.objectContaining({ deployment: 'refused', error: expect.stringMatching(/^ForbiddenError: /) }),
      ]);
      expect(await replicasOf(admin, namespace, 'refused')).toBe(0);
      expect(scalerEvents(namespace, 'refused')).toEqual([
        expect.objectContaining({
          type: 'Warning',
          reason: 'ReconcileFailed',
          message: expect.stringMatching(/^not reconciled: ForbiddenError: .*over the team quota/),
        }),
      ]);
      expect(kubectl(['describe', 'deployment', 'refused', '-n', namespace])).toMatch(
        /Warning\s+ReconcileFailed/,
      );
    } finally {
      kubectl([
        'delete',
        'validatingadmissionpolicybinding,validatingadmissionpolicy',
        policy,
        '--ignore-not-found',
      ]);
    }
  });

  it('may record Events only about Deployments (the admission policy, behind RBAC that allows events)', async () => {
    // Act: the scaler's identity tries an Event about a pod.
    const outcome = await createEvent(scaler, namespace, {
      metadata: { name: 'not-a-deployment.1', namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name: 'any' },
      reason: 'ScaledUp',
      message: 'x',
      type: 'Normal',
    }).then(
      () => new Error('the Event was admitted'),
      (error: unknown) => error,
    );

    // Assess
    expect(outcome).toBeInstanceOf(ForbiddenError);
    expect(String(outcome)).toMatch(/m2-consumer-scaler.*records Events only about Deployments/);
  });
});

/** A ValidatingAdmissionPolicy (and its binding) refusing every scale write of these Deployments. */
const quotaPolicy = (name: string, namespace: string, deployments: readonly string[]): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            resourceRules: [
              {
                apiGroups: ['apps'],
                apiVersions: ['*'],
                resources: ['deployments/scale'],
                operations: ['UPDATE'],
              },
            ],
          },
          validations: [
            {
              expression: `!(request.name in ${JSON.stringify(deployments)})`,
              message: 'over the team quota (a test policy)',
              reason: 'Forbidden',
            },
          ],
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name },
        spec: { policyName: name, validationActions: ['Deny'] },
      },
    ],
  });
