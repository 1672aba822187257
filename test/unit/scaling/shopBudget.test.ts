import { describe, expect, it } from 'vitest';
import {
  targetAnnotations as a,
  namespaceAnnotations,
  targetSelector,
} from '../../../lib/scaling/annotations.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { defaultPolicySettings } from '../../../lib/scaling/policy.ts';
import type { QueueDepth } from '../../../lib/scaling/queueSignals.ts';
import { reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const namespace = 'shop-a';
const queue = (name: string) => `https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-${name}`;
const consumer = (queueName: string, extra: Record<string, string> = {}) => ({
  replicas: 0,
  labels: { 'scaling.m2-eks-pipeline.io/enabled': 'true' },
  annotations: {
    [a.queueUrl]: queue(queueName),
    [a.messagesPerPod]: '20',
    [a.minReplicas]: '0',
    [a.maxReplicas]: '20',
    [a.cooldownSeconds]: '300',
    ...extra,
  },
});

/** A shop with a 10,000-product import (400 messages: 20 pods wanted) next to a media consumer (80: 4 pods). */
function shop(budget: string | undefined, mediaPriority = '10') {
  const cluster = new FakeCluster();
  cluster.addDeployment(namespace, 'm2-consumer-product-updates', consumer('product-updates'));
  cluster.addDeployment(namespace, 'm2-consumer-media', consumer('media', { [a.priority]: mediaPriority }));
  if (budget !== undefined)
    cluster.annotateNamespace(namespace, { [namespaceAnnotations.consumerPodBudget]: budget });
  const depths: Record<string, QueueDepth> = {
    [queue('product-updates')]: { visible: 400, inFlight: 0, delayed: 0 },
    [queue('media')]: { visible: 80, inFlight: 0, delayed: 0 },
  };
  const telemetry = recordingTelemetry();
  const now = () => cluster.clock.now();
  const deps = {
    cluster,
    log: telemetry.log,
    metrics: telemetry.metrics,
    events: new EventRecorder({ now }),
    now,
    signals: {
      readDepth: async (url: string) => depths[url] ?? { visible: 0, inFlight: 0, delayed: 0 },
      readQueueMetrics: async () => new Map(),
    },
  };
  const replicas = async (name: string) => (await cluster.getDeployment({ namespace, name })).spec?.replicas;
  const pass = () => reconcilePass(targetSelector, defaultPolicySettings, deps);
  return { cluster, telemetry, replicas, pass };
}

describe('the namespace consumer pod budget', () => {
  it('serves the higher priority in full and holds the import to the rest, saying so on its Deployment', async () => {
    // Prepare
    const s = shop('12');

    // Act
    const result = await s.pass();

    // Assess
    expect(result.failures).toEqual([]);
    expect(await s.replicas('m2-consumer-media')).toBe(4);
    expect(await s.replicas('m2-consumer-product-updates')).toBe(8);
    const held = s.cluster
      .events(namespace, 'm2-consumer-product-updates')
      .find((e) => e.reason === 'HeldByBudget');
    expect(held?.message).toBe('budget 12 pods: m2-consumer-product-updates gets 8 of 20 wanted');
    expect(s.cluster.events(namespace, 'm2-consumer-media').map((e) => e.reason)).not.toContain(
      'HeldByBudget',
    );
    const rule = result.outcomes.find((o) => o.deployment === 'm2-consumer-product-updates')?.decision.rule;
    expect(rule).toBe('budget');
  });

  it('shares a budget among equal priorities in proportion to their wants', async () => {
    const s = shop('12', '0');
    await s.pass();
    // 20 and 4 wanted, 12 pods: 10 and 2.
    expect(await s.replicas('m2-consumer-product-updates')).toBe(10);
    expect(await s.replicas('m2-consumer-media')).toBe(2);
  });

  it('scales a consumer above its grant down to it when the budget is lowered', async () => {
    const s = shop(undefined);
    await s.pass();
    expect(await s.replicas('m2-consumer-product-updates')).toBe(20);
    s.cluster.annotateNamespace(namespace, { [namespaceAnnotations.consumerPodBudget]: '6' });
    s.cluster.clock.advance(10_000);
    await s.pass();
    expect(await s.replicas('m2-consumer-media')).toBe(4);
    expect(await s.replicas('m2-consumer-product-updates')).toBe(2);
  });

  it('leaves the shop unbudgeted, and says why, when its budget is malformed', async () => {
    const s = shop('twelve');
    await s.pass();
    expect(await s.replicas('m2-consumer-product-updates')).toBe(20);
    expect(s.telemetry.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'namespace budget malformed; its consumers are not budgeted',
        fields: expect.objectContaining({ namespace, annotation: namespaceAnnotations.consumerPodBudget }),
      }),
    );
  });
});
