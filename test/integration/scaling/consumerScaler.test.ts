import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { readDeployment } from '../../../lib/k8s/deployments.ts';
import { stateAnnotations, targetAnnotations } from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import { SqsQueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { type PassDeps, reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import { readState } from '../../../lib/scaling/state.ts';
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
  scalerEvents,
  sendMessages,
  sqs,
  testClock,
} from './scalerFixture.ts';

/**
 * consumerScaler against the embedded stack: queues in moto, Deployments in the real apiserver,
 * and the scaler authenticating with its own EKS token (role m2-consumer-scaler → group
 * m2:consumer-scaler) under the manifests' RBAC. Time inside the policy is a test clock.
 */
let admin: TestCluster;
let scaler: ClusterClient;
let namespace: string;
let client: SQSClient;
const queueUrls: string[] = [];

beforeAll(async () => {
  embeddedEnv();
  admin = await adminCluster();
  namespace = await testNamespace(admin, 'scaler');
  await grantScaler(admin, namespace);
  scaler = await roleCluster(roleArns.consumerScaler);
  client = sqs();
});

afterAll(async () => {
  await deleteNamespace(admin, namespace);
  await Promise.all(queueUrls.map((url) => deleteQueue(client, url)));
});

const newQueue = async (): Promise<string> => {
  const url = await createQueue(client);
  queueUrls.push(url);
  return url;
};

const passDeps = (now: () => number, telemetry = recordingTelemetry(), sqsClient = client): PassDeps => ({
  cluster: scaler,
  signals: new SqsQueueSignals({ sqs: sqsClient, log: telemetry.log }),
  log: telemetry.log,
  metrics: telemetry.metrics,
  events: new EventRecorder({ now }),
  now,
});

const selectorFor = (name: string): string => `${runSelector},app=${name}`;

describe('consumerScaler on the embedded stack', () => {
  it('scales to the expected count in one invocation for a burst', async () => {
    // Prepare: 10,000 product updates, 250 per pod → 40 replicas (max 100), starting from zero.
    // (Sending them takes seconds because scripts/local/moto-server.py removes moto's per-message
    // recount of the whole queue.)
    const queueUrl = await newQueue();
    await sendMessages(client, queueUrl, 10_000);
    await createConsumer(admin, namespace, { name: 'burst', queueUrl, replicas: 0, messagesPerPod: 250 });
    process.env.SCALER_TARGET_SELECTOR = selectorFor('burst');
    process.env.SCALER_MAX_RUN_SECONDS = '0';
    process.env.EKS_ASSUME_ROLE_ARN = roleArns.consumerScaler;
    process.env.K8S_CONNECTION = 'eks';
    const { handler } = await import('../../../functions/consumerScaler.ts');

    // Act: the real handler, as EventBridge's schedule invokes it.
    const event = JSON.parse(
      (await import('node:fs')).readFileSync(
        new URL('../../../events/schedule.json', import.meta.url),
        'utf8',
      ),
    ) as unknown;
    const result = await handler(event, {
      getRemainingTimeInMillis: () => 60_000,
      functionName: 'consumerScaler',
      awsRequestId: 'it-burst',
    } as never);

    // Assess
    expect(result).toMatchObject({
      passes: 1,
      targets: 1,
      changes: [{ namespace, deployment: 'burst', from: 0, to: 40 }],
    });
    expect(await replicasOf(admin, namespace, 'burst')).toBe(40);
    const deployment = await readDeployment(admin, { namespace, name: 'burst' });
    expect(deployment.metadata?.annotations?.[stateAnnotations.lastReason]).toContain(
      'backlog 10000 (visible 10000, in flight 0) / 250 per pod → 40; scale up 0 → 40',
    );
  });

  it('never scales to zero while messages are in flight, however long the queue looks empty', async () => {
    // Prepare: three messages received and not deleted (a consumer is working on them).
    const queueUrl = await newQueue();
    await sendMessages(client, queueUrl, 3);
    await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 900 }),
    );
    await createConsumer(admin, namespace, { name: 'inflight', queueUrl, replicas: 2, cooldownSeconds: 30 });
    const clock = testClock();
    const deps = passDeps(clock.now);

    // Act: passes over ten simulated minutes, far past the cooldown and the scale-down window.
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      await reconcilePass(selectorFor('inflight'), defaultPolicySettings, deps);
      seen.push((await replicasOf(admin, namespace, 'inflight')) ?? -1);
      clock.advance(50_000);
    }

    // Assess: down to one pod for the messages in flight, never zero.
    expect(Math.min(...seen)).toBe(1);
    const reason = (await readDeployment(admin, { namespace, name: 'inflight' })).metadata?.annotations?.[
      stateAnnotations.lastReason
    ];
    expect(reason).toContain('in flight 3');
  });

  it('scales a drained queue to zero only after two consistent empty readings and the cooldown', async () => {
    // Prepare
    const queueUrl = await newQueue();
    await createConsumer(admin, namespace, { name: 'drained', queueUrl, replicas: 2, cooldownSeconds: 60 });
    const clock = testClock();
    const deps = passDeps(clock.now);
    const pass = async (): Promise<number | undefined> => {
      await reconcilePass(selectorFor('drained'), defaultPolicySettings, deps);
      return replicasOf(admin, namespace, 'drained');
    };

    // Act + Assess, step by step in simulated time.
    expect(await pass()).toBe(1); // first empty reading: one pod stays
    clock.advance(2_000);
    expect(await pass()).toBe(1); // 2 s later: too close to count as a second reading
    clock.advance(10_000);
    expect(await pass()).toBe(1); // second reading, but quiet for 12 s < 60 s cooldown
    clock.advance(50_000);
    expect(await pass()).toBe(0); // 62 s quiet, two consistent empty readings
    const state = readState(
      (await readDeployment(admin, { namespace, name: 'drained' })).metadata?.annotations,
    );
    expect(state).toMatchObject({ kind: 'ok', state: { emptyReads: 2, busyReads: 0 } });
  });

  it('loses no update when invocations overlap', async () => {
    // Prepare: five consumers with different backlogs.
    const backlogs = [0, 10, 60, 130, 260];
    const names = backlogs.map((_, i) => `overlap-${i}`);
    for (const [i, backlog] of backlogs.entries()) {
      const queueUrl = await newQueue();
      await sendMessages(client, queueUrl, backlog);
      await createConsumer(admin, namespace, {
        name: names[i] ?? '',
        queueUrl,
        replicas: 1,
        messagesPerPod: 25,
      });
    }
    const selector = `${runSelector},app in (${names.join(',')})`;
    const clock = testClock();
    const scalers = await Promise.all([0, 1, 2].map(() => roleCluster(roleArns.consumerScaler)));

    // Act: three invocations at the same moment, each with its own connection.
    const results = await Promise.all(
      scalers.map((cluster) =>
        reconcilePass(selector, defaultPolicySettings, { ...passDeps(clock.now), cluster }),
      ),
    );

    // Assess: every pass saw every target, nobody failed, and each Deployment holds one
    // consistent result: the expected replicas and a state that counted the reading once.
    for (const r of results) {
      expect(r.failures).toEqual([]);
      expect(r.targets).toBe(5);
    }
    const expected = [1, 1, 3, 6, 11]; // ceil(backlog / 25); the empty one stays at 1 (cooldown)
    for (const [i, name] of names.entries()) {
      const deployment = await readDeployment(admin, { namespace, name });
      expect(deployment.spec?.replicas, name).toBe(expected[i]);
      const state = readState(deployment.metadata?.annotations);
      expect(state.kind, name).toBe('ok');
      if (state.kind === 'ok') expect(state.state.busyReads + state.state.emptyReads, name).toBe(1);
    }
  });

  it("splits a shared queue's backlog among its Deployments instead of giving each all of it", async () => {
    // Prepare: 300 messages, three consumers at 25 per pod; the first can hold only 2 × 25.
    const queueUrl = await newQueue();
    await sendMessages(client, queueUrl, 300);
    const names = ['shared-small', 'shared-a', 'shared-b'];
    for (const name of names) {
      await createConsumer(admin, namespace, {
        name,
        queueUrl,
        replicas: 0,
        messagesPerPod: 25,
        maxReplicas: name === 'shared-small' ? 2 : 100,
      });
    }

    // Act
    const result = await reconcilePass(
      `${runSelector},app in (${names.join(',')})`,
      defaultPolicySettings,
      passDeps(Date.now),
    );

    // Assess: 50 messages for the small one, 125 for each other (not 12 pods each).
    expect(result.failures).toEqual([]);
    const replicas = await Promise.all(names.map((name) => replicasOf(admin, namespace, name)));
    expect(replicas).toEqual([2, 5, 5]);
  });

  it('skips a target with a malformed annotation and still scales the others', async () => {
    // Prepare
    const queueUrl = await newQueue();
    await sendMessages(client, queueUrl, 60);
    await createConsumer(admin, namespace, {
      name: 'bad-annotation',
      queueUrl,
      replicas: 1,
      messagesPerPod: 0,
    });
    await createConsumer(admin, namespace, {
      name: 'good-neighbour',
      queueUrl,
      replicas: 0,
      messagesPerPod: 25,
    });
    const telemetry = recordingTelemetry();

    // Act
    const result = await reconcilePass(
      `${runSelector},app in (bad-annotation,good-neighbour)`,
      defaultPolicySettings,
      passDeps(Date.now, telemetry),
    );

    // Assess
    expect(result.targets).toBe(1);
    expect(await replicasOf(admin, namespace, 'good-neighbour')).toBe(3);
    expect(await replicasOf(admin, namespace, 'bad-annotation')).toBe(1);
    expect(telemetry.lines).toContainEqual({
      level: 'warn',
      message: 'scaling target skipped: malformed annotation',
      fields: expect.objectContaining({
        namespace,
        deployment: 'bad-annotation',
        annotation: 'scaling.m2-eks-pipeline.io/messages-per-pod',
      }),
    });
    expect(telemetry.counts.get('TargetsSkipped{reason=invalid-annotation}')).toBe(1);
  });

  it('tells a paused target why it is not scaled (Event naming the key) and still scales the others', async () => {
    // Prepare
    const queueUrl = await newQueue();
    await sendMessages(client, queueUrl, 60);
    await createConsumer(admin, namespace, {
      name: 'paused-one',
      queueUrl,
      replicas: 0,
      messagesPerPod: 25,
      extraAnnotations: { [targetAnnotations.paused]: 'true' },
    });
    await createConsumer(admin, namespace, {
      name: 'running-one',
      queueUrl,
      replicas: 0,
      messagesPerPod: 25,
    });

    // Act
    const result = await reconcilePass(
      `${runSelector},app in (paused-one,running-one)`,
      defaultPolicySettings,
      passDeps(Date.now),
    );

    // Assess
    expect(result.targets).toBe(1);
    expect(await replicasOf(admin, namespace, 'running-one')).toBe(3);
    expect(await replicasOf(admin, namespace, 'paused-one')).toBe(0);
    expect(scalerEvents(namespace, 'paused-one').map((e) => [e.type, e.reason, e.message])).toEqual([
      [
        'Normal',
        'Paused',
        `annotation ${targetAnnotations.paused} is "true": not scaled until it is removed`,
      ],
    ]);
  });

  it('reports a target it may not scale (no RoleBinding in its namespace) and still scales the others', async () => {
    // Prepare: a second namespace the scaler can discover (cluster-wide list) but not write to.
    const unbound = await testNamespace(admin, 'scaler-unbound');
    try {
      // One queue each: Deployments on one queue would share its backlog.
      const [forbiddenQueue, permittedQueue] = [await newQueue(), await newQueue()];
      await sendMessages(client, forbiddenQueue, 60);
      await sendMessages(client, permittedQueue, 60);
      await createConsumer(admin, unbound, {
        name: 'forbidden',
        queueUrl: forbiddenQueue,
        replicas: 0,
        messagesPerPod: 25,
      });
      await createConsumer(admin, namespace, {
        name: 'permitted',
        queueUrl: permittedQueue,
        replicas: 0,
        messagesPerPod: 25,
      });
      const telemetry = recordingTelemetry();

      // Act
      const result = await reconcilePass(
        `${runSelector},app in (forbidden,permitted)`,
        defaultPolicySettings,
        passDeps(Date.now, telemetry),
      );

      // Assess
      expect(result.targets).toBe(2);
      expect(result.failures).toEqual([
        expect.objectContaining({
          namespace: unbound,
          deployment: 'forbidden',
          error: expect.stringContaining('ForbiddenError'),
        }),
      ]);
      expect(await replicasOf(admin, unbound, 'forbidden')).toBe(0);
      expect(await replicasOf(admin, namespace, 'permitted')).toBe(3);
      expect(telemetry.counts.get('TargetErrors{reason=ForbiddenError}')).toBe(1);
    } finally {
      await deleteNamespace(admin, unbound);
    }
  });

  it('holds replicas and counts an error when the queue does not exist', async () => {
    // Prepare: a queue URL moto does not know (deleted queue, typo in the annotation).
    await createConsumer(admin, namespace, {
      name: 'missing-queue',
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/scaler-it-no-such-queue',
      replicas: 3,
    });
    const telemetry = recordingTelemetry();
    const clock = testClock();

    // Act: passes long after any cooldown.
    for (let i = 0; i < 3; i++) {
      await reconcilePass(
        selectorFor('missing-queue'),
        defaultPolicySettings,
        passDeps(clock.now, telemetry),
      );
      clock.advance(600_000);
    }

    // Assess
    expect(await replicasOf(admin, namespace, 'missing-queue')).toBe(3);
    expect(telemetry.counts.get('QueueReadErrors{reason=not-found}')).toBe(3);
  });
});
