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
import { budgetIgnoredEvent, parseBudget } from '../../../lib/scaling/shopBudget.ts';
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
        fields: expect.objectContaining({
          namespace,
          annotation: namespaceAnnotations.consumerPodBudget,
          deployments: ['m2-consumer-media', 'm2-consumer-product-updates'],
        }),
      }),
    );
  });

  it('tells a malformed budget on every consumer Deployment of the namespace, once per minute at most', async () => {
    // Prepare
    const s = shop('twelve');
    const invalid = (name: string) =>
      s.cluster.events(namespace, name).filter((e) => e.reason === 'BudgetInvalid');

    // Act: three passes 5 s apart (the second and third only count), one a minute later.
    await s.pass();
    for (let i = 0; i < 2; i++) {
      s.cluster.clock.advance(5_000);
      await s.pass();
    }
    const afterThree = invalid('m2-consumer-media').map((e) => e.count);
    s.cluster.clock.advance(60_000);
    await s.pass();

    // Assess
    expect(afterThree).toEqual([1]);
    for (const name of ['m2-consumer-media', 'm2-consumer-product-updates']) {
      expect(invalid(name)).toEqual([
        expect.objectContaining({
          type: 'Warning',
          count: 4,
          message: `annotation ${namespaceAnnotations.consumerPodBudget} on namespace ${namespace} must be a whole number from 0 to 10000, not "twelve"; scaled without the shop's pod budget until it is fixed`,
          involvedObject: expect.objectContaining({ kind: 'Deployment', name }),
        }),
      ]);
    }
  });

  it('tells an unreadable namespace on its consumers and still scales them, unbudgeted', async () => {
    // Prepare
    const s = shop('12');
    s.cluster.fail({ verb: 'get', resource: 'namespaces', status: 403, reason: 'Forbidden', times: 1 });

    // Act
    const result = await s.pass();

    // Assess
    expect(result.failures).toEqual([]);
    expect(await s.replicas('m2-consumer-product-updates')).toBe(20);
    const told = s.cluster
      .events(namespace, 'm2-consumer-media')
      .find((e) => e.reason === 'BudgetUnreadable');
    expect(told?.type).toBe('Warning');
    expect(told?.message).toContain(
      `namespace ${namespace} could not be read for annotation ${namespaceAnnotations.consumerPodBudget} (`,
    );
    expect(s.telemetry.lines).toContainEqual(
      expect.objectContaining({
        message: 'namespace budget unreadable; its consumers are not budgeted this pass',
        fields: expect.objectContaining({ namespace, annotation: namespaceAnnotations.consumerPodBudget }),
      }),
    );
  });

  it('tells nothing when the budget is well-formed or absent', async () => {
    for (const budget of ['12', undefined]) {
      const s = shop(budget);
      await s.pass();
      const reasons = s.cluster.events(namespace, 'm2-consumer-media').map((e) => e.reason);
      expect(reasons).not.toContain('BudgetInvalid');
      expect(reasons).not.toContain('BudgetUnreadable');
    }
  });
});

describe('parseBudget', () => {
  it.each([
    ['0', 0],
    ['12', 12],
    ['10000', 10_000],
  ])('reads %s', (raw, budget) => {
    expect(parseBudget(raw)).toEqual({ ok: true, budget });
  });

  it.each(['twelve', '-1', '1.5', '10001', '', ' 12', '1e3'])('refuses "%s"', (raw) => {
    expect(parseBudget(raw)).toEqual({
      ok: false,
      problem: `must be a whole number from 0 to 10000, not "${raw}"`,
    });
  });
});

describe('budgetIgnoredEvent', () => {
  it('names the namespace, the annotation and the cause', () => {
    expect(
      budgetIgnoredEvent('shop-a', { kind: 'unreadable', error: 'get namespaces shop-a: timed out' }),
    ).toEqual({
      type: 'Warning',
      reason: 'BudgetUnreadable',
      message: `namespace shop-a could not be read for annotation ${namespaceAnnotations.consumerPodBudget} (get namespaces shop-a: timed out); scaled without the shop's pod budget this pass`,
    });
  });
});
