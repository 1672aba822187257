import { describe, expect, it } from 'vitest';
import { annotationPath } from '../../../lib/k8s/jsonPatch.ts';
import {
  targetAnnotations as a,
  pausedByRolloutAnnotation,
  targetSelector,
} from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import { reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import { reconcileTarget } from '../../../lib/scaling/reconcileTarget.ts';
import { parseScalingTarget, type ScalingTarget } from '../../../lib/scaling/target.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const namespace = 'shop-a';
const name = 'm2-consumer-media';
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-media';
const scaling = {
  [a.queueUrl]: queueUrl,
  [a.messagesPerPod]: '20',
  [a.minReplicas]: '0',
  [a.maxReplicas]: '10',
  [a.cooldownSeconds]: '300',
};

/** A consumer with a backlog of 500 (25 pods' worth) that a rollout may have paused. */
function consumerWithBacklog(annotations: Record<string, string>) {
  const cluster = new FakeCluster();
  cluster.addDeployment(namespace, name, {
    replicas: 0,
    labels: { 'scaling.m2-eks-pipeline.io/enabled': 'true' },
    annotations: { ...scaling, ...annotations },
  });
  const telemetry = recordingTelemetry();
  const now = () => cluster.clock.now();
  const deps = {
    cluster,
    log: telemetry.log,
    metrics: telemetry.metrics,
    events: new EventRecorder({ now }),
    now,
    signals: {
      readDepth: async () => ({ visible: 500, inFlight: 0, delayed: 0 }),
      readQueueMetrics: async () => new Map(),
    },
  };
  const replicas = async () => (await cluster.getDeployment({ namespace, name })).spec?.replicas;
  return { cluster, deps, replicas };
}

describe('consumerScaler and the rollout’s quiet window', () => {
  it('parses a Deployment paused by a rollout as held, even when its other annotations are malformed', () => {
    // Act
    const parsed = parseScalingTarget({
      metadata: {
        namespace,
        name,
        annotations: { [a.maxReplicas]: 'ten', [pausedByRolloutAnnotation]: 'r-42' },
      },
      spec: { replicas: 0, selector: {}, template: {} },
    });

    // Assess
    expect(parsed).toEqual({
      kind: 'held-by-rollout',
      ref: { namespace, name },
      release: 'r-42',
      replicas: 0,
    });
  });

  it('holds a paused consumer at the rollout’s replicas despite a backlog and says so in an Event', async () => {
    // Prepare
    const shop = consumerWithBacklog({ [pausedByRolloutAnnotation]: 'r-42' });

    // Act
    const pass = await reconcilePass(targetSelector, defaultPolicySettings, shop.deps);

    // Assess
    expect(pass).toMatchObject({ targets: 0, outcomes: [], failures: [] });
    expect(await shop.replicas()).toBe(0);
    const events = shop.cluster.events(namespace, name);
    expect(events.map((e) => [e.type, e.reason])).toEqual([['Normal', 'PausedByRollout']]);
    expect(events[0]?.message).toContain('paused by rollout r-42');
  });

  it('scales the same consumer once the rollout removed its pause', async () => {
    // Prepare: the oracle that the backlog alone would scale it (500 messages / 20 per pod, max 10).
    const shop = consumerWithBacklog({});

    // Act
    const pass = await reconcilePass(targetSelector, defaultPolicySettings, shop.deps);

    // Assess
    expect(pass.outcomes).toHaveLength(1);
    expect(await shop.replicas()).toBe(10);
  });

  it('writes nothing when the pause arrives between discovery and the write', async () => {
    // Prepare: discovered unpaused; the rollout pauses it before this target's read–decide–write.
    const shop = consumerWithBacklog({});
    const target: ScalingTarget = {
      namespace,
      name,
      queueUrl,
      bounds: { messagesPerPod: 20, minReplicas: 0, maxReplicas: 10, cooldownSeconds: 300 },
    };
    await shop.cluster.patchDeployment(
      { namespace, name },
      {
        type: 'json',
        operations: [
          {
            op: 'add',
            path: annotationPath(pausedByRolloutAnnotation),
            value: 'r-43',
          },
        ],
      },
    );

    // Act
    const error = await reconcileTarget(
      target,
      { visible: 500, inFlight: 0, delayed: 0 },
      defaultPolicySettings,
      shop.deps,
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'HeldByRolloutError', release: 'r-43' });
    expect(await shop.replicas()).toBe(0);
  });
});
