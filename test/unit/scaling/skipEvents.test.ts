import { describe, expect, it } from 'vitest';
import {
  targetAnnotations as a,
  stateAnnotations,
  targetSelector,
} from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import { reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const namespace = 'shop-a';
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-media';
const scaling = {
  [a.queueUrl]: queueUrl,
  [a.messagesPerPod]: '20',
  [a.minReplicas]: '0',
  [a.maxReplicas]: '10',
  [a.cooldownSeconds]: '300',
};

/** Two consumers of one queue with a backlog of 500, one of them with extra annotations. */
function shop(extra: Record<string, string>) {
  const cluster = new FakeCluster();
  const seed = (annotations: Record<string, string>) => ({
    replicas: 0,
    labels: { 'scaling.m2-eks-pipeline.io/enabled': 'true' },
    annotations: { ...scaling, ...annotations },
  });
  cluster.addDeployment(namespace, 'm2-consumer-odd', seed(extra));
  cluster.addDeployment(namespace, 'm2-consumer-media', seed({}));
  const telemetry = recordingTelemetry();
  const now = () => cluster.clock.now();
  const pass = () =>
    reconcilePass(targetSelector, defaultPolicySettings, {
      cluster,
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now }),
      now,
      signals: {
        readDepth: async () => ({ visible: 500, inFlight: 0, delayed: 0 }),
        readQueueMetrics: async () => new Map(),
      },
    });
  const replicas = async (name: string) => (await cluster.getDeployment({ namespace, name })).spec?.replicas;
  return { cluster, telemetry, pass, replicas };
}

describe('the scaler tells each skip on the Deployment', () => {
  it('says on a paused Deployment that its paused annotation holds it, and scales the others', async () => {
    // Prepare
    const s = shop({ [a.paused]: 'true' });

    // Act
    await s.pass();

    // Assess
    expect(await s.replicas('m2-consumer-odd')).toBe(0);
    expect(await s.replicas('m2-consumer-media')).toBeGreaterThan(0);
    expect(s.cluster.events(namespace, 'm2-consumer-odd')).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'Paused',
        message: `annotation ${a.paused} is "true": not scaled until it is removed`,
        involvedObject: expect.objectContaining({ kind: 'Deployment', name: 'm2-consumer-odd' }),
      }),
    ]);
    expect(s.telemetry.lines).toContainEqual(
      expect.objectContaining({
        message: 'scaling target paused',
        fields: expect.objectContaining({ deployment: 'm2-consumer-odd', annotation: a.paused }),
      }),
    );
  });

  it('names the state annotation when it is malformed, and scales from a fresh state', async () => {
    // Prepare
    const s = shop({ [stateAnnotations.state]: '{not json' });

    // Act
    const result = await s.pass();

    // Assess
    expect(result.failures).toEqual([]);
    expect(await s.replicas('m2-consumer-odd')).toBeGreaterThan(0);
    expect(s.telemetry.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'scaler state annotation malformed; starting over',
        fields: expect.objectContaining({
          deployment: 'm2-consumer-odd',
          annotation: stateAnnotations.state,
        }),
      }),
    );
  });

  it('tells a refused scale write on that Deployment as ReconcileFailed, and still scales the other', async () => {
    // Prepare: the admission policy of another tool refuses the scale write of one Deployment.
    const s = shop({});
    s.cluster.fail({
      verb: 'update',
      resource: 'deployments/scale',
      name: 'm2-consumer-odd',
      status: 403,
      reason: 'Forbidden',
      message: 'admission webhook "quota.example" denied the request: replicas over the team quota',
      times: 100,
    });

    // Act
    const result = await s.pass();

    // Assess
    expect(result.failures).toEqual([
      expect.objectContaining({
        deployment: 'm2-consumer-odd',
        error: expect.stringMatching(/^ForbiddenError: /),
      }),
    ]);
    expect(await s.replicas('m2-consumer-odd')).toBe(0);
    expect(await s.replicas('m2-consumer-media')).toBeGreaterThan(0);
    expect(s.cluster.events(namespace, 'm2-consumer-odd')).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'ReconcileFailed',
        message: expect.stringMatching(
          /^not reconciled: ForbiddenError: .*replicas over the team quota.*; replicas left as they are, the next pass tries again$/,
        ),
      }),
    ]);
    expect(s.cluster.events(namespace, 'm2-consumer-media')).not.toContainEqual(
      expect.objectContaining({ reason: 'ReconcileFailed' }),
    );
  });

  it('tells no ReconcileFailed about a Deployment deleted during the pass', async () => {
    // Prepare: the Deployment is gone by the time its scale is written.
    const s = shop({});
    s.cluster.fail({
      verb: 'update',
      resource: 'deployments/scale',
      name: 'm2-consumer-odd',
      status: 404,
      reason: 'NotFound',
      times: 100,
    });

    // Act
    const result = await s.pass();

    // Assess
    expect(result.failures).toEqual([expect.objectContaining({ deployment: 'm2-consumer-odd' })]);
    expect(s.cluster.events(namespace, 'm2-consumer-odd')).not.toContainEqual(
      expect.objectContaining({ reason: 'ReconcileFailed' }),
    );
  });
});
