import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import { reconcileTarget } from '../../../lib/scaling/reconcileTarget.ts';
import type { ScalingTarget } from '../../../lib/scaling/target.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const target: ScalingTarget = {
  namespace: 'shop-a',
  name: 'm2-consumer-media',
  queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-media',
  bounds: { messagesPerPod: 20, minReplicas: 0, maxReplicas: 10, cooldownSeconds: 300 },
};

describe('reconcileTarget', () => {
  it('re-reads and re-decides when the scale write loses to a status update (409), and scales once', async () => {
    // Prepare: the Deployment changes between the scaler's read and its PUT of the Scale (as the
    // deployment controller's status updates do); the apiserver answers 409 to the stale resourceVersion.
    const cluster = new FakeCluster();
    cluster.addDeployment('shop-a', 'm2-consumer-media', { replicas: 1 });
    cluster.fail({ verb: 'update', resource: 'deployments/scale', status: 409 });
    const telemetry = recordingTelemetry();
    const now = () => cluster.clock.now();

    // Act
    const outcome = await reconcileTarget(
      target,
      { visible: 100, inFlight: 0, delayed: 0 },
      defaultPolicySettings,
      {
        cluster,
        log: telemetry.log,
        metrics: telemetry.metrics,
        events: new EventRecorder({ now }),
        now,
      },
    );

    // Assess
    expect(outcome).toMatchObject({ from: 1, to: 5, conflicts: 1 });
    expect(
      (await cluster.getDeployment({ namespace: 'shop-a', name: 'm2-consumer-media' })).spec?.replicas,
    ).toBe(5);
    expect(telemetry.counts.get('WriteConflicts')).toBe(1);
    expect(cluster.events('shop-a', 'm2-consumer-media').map((e) => e.reason)).toEqual(['ScaledUp']);
  });
});
