import { describe, expect, it } from 'vitest';
import {
  targetAnnotations as a,
  stateAnnotations,
  targetSelector,
} from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import type { QueueMetrics } from '../../../lib/scaling/queueSignals.ts';
import { reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const namespace = 'shop-a';
const name = 'm2-consumer-product-updates';
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-product-updates';

/**
 * 5 ready pods, last scaled 10 minutes ago, 900 messages waiting, a 300 s wait SLO on a declared 1 s
 * per message (3 pods' worth); CloudWatch says the queue's deletes were `deletedPerSecond`.
 */
async function passWithDeletes(deletedPerSecond: number | undefined) {
  const cluster = new FakeCluster();
  const now = cluster.clock.now();
  const state = {
    v: 1,
    emptyReads: 0,
    busyReads: 2,
    lastScaleAt: now - 10 * 60_000,
    lastReadAt: now - 60_000,
  };
  cluster.addDeployment(namespace, name, {
    replicas: 5,
    labels: { 'scaling.m2-eks-pipeline.io/enabled': 'true' },
    annotations: {
      [a.queueUrl]: queueUrl,
      [a.messagesPerPod]: '1000',
      [a.minReplicas]: '0',
      [a.maxReplicas]: '20',
      [a.cooldownSeconds]: '300',
      [a.secondsPerMessage]: '1',
      [a.maxWaitSeconds]: '300',
      [stateAnnotations.state]: JSON.stringify(state),
    },
  });
  cluster.settle();
  const telemetry = recordingTelemetry();
  const metrics = new Map<string, QueueMetrics>(
    deletedPerSecond === undefined ? [] : [[queueUrl, { deletedPerSecond }]],
  );
  const clock = () => cluster.clock.now();
  await reconcilePass(
    targetSelector,
    { ...defaultPolicySettings, tolerance: 0 },
    {
      cluster,
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now: clock }),
      now: clock,
      signals: {
        readDepth: async () => ({ visible: 900, inFlight: 0, delayed: 0 }),
        readQueueMetrics: async () => metrics,
      },
    },
  );
  const replicas = (await cluster.getDeployment({ namespace, name })).spec?.replicas;
  return { replicas, telemetry };
}

describe('learned per-pod throughput in a reconcile', () => {
  it('sizes with the declared seconds-per-message when no deletes are known', async () => {
    // 1 s × 900 / 300 s = 3, below the 5 running; the scale-down window holds no earlier peak.
    expect((await passWithDeletes(undefined)).replicas).toBe(3);
  });

  it('sizes with the pods’ own pace when it is far slower than declared, and logs both', async () => {
    // 5 pods delete 1.25/s: 4 s per message observed (within the 4× bound) → 4 × 900 / 300 = 12.
    const { replicas, telemetry } = await passWithDeletes(1.25);
    expect(replicas).toBe(12);
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({
        message: 'learned throughput differs from declared seconds-per-message',
        fields: expect.objectContaining({ deployment: name, declared: 1, observed: 4, used: 4 }),
      }),
    );
  });
});
