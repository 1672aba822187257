import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConsumerScalerConfig } from '../../../lib/config/consumerScalerConfig.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { powertoolsLog, powertoolsMetricSink } from '../../../lib/observability/telemetry.ts';
import { targetAnnotations, targetLabel } from '../../../lib/scaling/annotations.ts';
import { QueueReadError } from '../../../lib/scaling/errors.ts';
import type { QueueDepth, QueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { reconcilePass } from '../../../lib/scaling/reconcilePass.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { captureOutput, powertools } from './capture.ts';

const names = metricNames.consumerScaler;
const { run } = loadConsumerScalerConfig({});
const exportQueue = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-export';
const mediaQueue = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-media';

/** A consumer target: `ready` of its `replicas` pods are Ready (the others were just started). */
interface Consumer {
  readonly name: string;
  readonly queueUrl: string;
  readonly replicas: number;
  readonly ready: number;
}

const consumer = (name: string, queueUrl: string, replicas: number, ready: number): Consumer => ({
  name,
  queueUrl,
  replicas,
  ready,
});

/** The consumers on a fake cluster. */
async function fakeCluster(consumers: readonly Consumer[]): Promise<FakeCluster> {
  const cluster = new FakeCluster();
  for (const c of consumers) {
    cluster.addDeployment('shop-a', c.name, {
      replicas: c.ready,
      labels: { [targetLabel]: 'true' },
      annotations: {
        [targetAnnotations.queueUrl]: c.queueUrl,
        [targetAnnotations.messagesPerPod]: '100',
        [targetAnnotations.minReplicas]: '0',
        [targetAnnotations.maxReplicas]: '10',
        [targetAnnotations.cooldownSeconds]: '300',
      },
    });
    // Pods added now are not Ready yet: the clock does not move.
    if (c.replicas > c.ready) {
      await cluster.updateDeploymentScale(
        { namespace: 'shop-a', name: c.name },
        { spec: { replicas: c.replicas } },
      );
    }
  }
  return cluster;
}

/** Depths by queue URL; a missing queue reads as denied (AccessDenied). */
const signals = (depths: Record<string, QueueDepth>): QueueSignals => ({
  readDepth: async (url) => {
    const depth = depths[url];
    if (depth === undefined) throw new QueueReadError(url, 'denied');
    return depth;
  },
  readArrivals: async () => new Map(),
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('consumerScaler telemetry through Powertools', () => {
  it('emits desired and Ready replicas and the backlog per target, dimensioned by namespace and deployment', async () => {
    // Prepare
    const out = captureOutput();
    const { logger, metrics } = powertools();
    const cluster = await fakeCluster([
      consumer('m2-consumer-export', exportQueue, 0, 0),
      consumer('m2-consumer-media', mediaQueue, 2, 1),
    ]);

    // Act
    const pass = await reconcilePass(run.selector, run.policy, {
      cluster,
      signals: signals({
        [exportQueue]: { visible: 450, inFlight: 30, delayed: 5 },
        [mediaQueue]: { visible: 0, inFlight: 40, delayed: 0 },
      }),
      log: powertoolsLog(logger),
      metrics: powertoolsMetricSink(metrics),
      now: Date.now,
    });

    // Assess
    const desired = new Map(pass.outcomes.map((o) => [o.deployment, o.to]));
    const gauges = out
      .metrics()
      .filter((m) =>
        [names.desiredReplicas, names.readyReplicas, names.queueBacklog].includes(m.name as never),
      )
      .map((m) => [m.name, m.unit, m.value, m.dimensions])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const dims = (deployment: string) => ({ deployment, namespace: 'shop-a', service: 'm2-eks-pipeline' });
    expect(gauges).toEqual(
      [
        [names.desiredReplicas, 'Count', desired.get('m2-consumer-export'), dims('m2-consumer-export')],
        [names.readyReplicas, 'Count', 0, dims('m2-consumer-export')],
        [names.queueBacklog, 'Count', 480, dims('m2-consumer-export')],
        [names.desiredReplicas, 'Count', desired.get('m2-consumer-media'), dims('m2-consumer-media')],
        [names.readyReplicas, 'Count', 1, dims('m2-consumer-media')],
        [names.queueBacklog, 'Count', 40, dims('m2-consumer-media')],
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    // The export consumer woke from zero, the media one had more pods than its backlog needs.
    expect(desired).toEqual(
      new Map([
        ['m2-consumer-export', 5],
        ['m2-consumer-media', 1],
      ]),
    );
    expect(
      out
        .metrics()
        .filter((m) => m.name === names.scaleEvents)
        .map((m) => [m.unit, m.value, m.dimensions.direction])
        .sort(),
    ).toEqual([
      ['Count', 1, 'down'],
      ['Count', 1, 'up'],
    ]);
    const scaled = out.logRecords().find((r) => r.message === 'scaled');
    expect(scaled).toEqual(
      expect.objectContaining({ namespace: 'shop-a', deployment: 'm2-consumer-export', queue: exportQueue }),
    );
  });

  it('holds a target whose queue is unreadable: no backlog point, the read error counted and named by queue', async () => {
    // Prepare
    const out = captureOutput();
    const { logger, metrics } = powertools();

    // Act
    await reconcilePass(run.selector, run.policy, {
      cluster: await fakeCluster([consumer('m2-consumer-export', exportQueue, 3, 3)]),
      signals: signals({}),
      log: powertoolsLog(logger),
      metrics: powertoolsMetricSink(metrics),
      now: Date.now,
    });

    // Assess
    const emitted = out.metrics();
    expect(emitted.filter((m) => m.name === names.queueBacklog)).toEqual([]);
    expect(emitted.filter((m) => m.name === names.desiredReplicas).map((m) => m.value)).toEqual([3]);
    expect(emitted.filter((m) => m.name === names.readyReplicas).map((m) => m.value)).toEqual([3]);
    expect(emitted.filter((m) => m.name === names.queueReadErrors)).toEqual([
      expect.objectContaining({
        value: 1,
        dimensions: { reason: 'denied', service: 'm2-eks-pipeline' },
      }),
    ]);
    expect(out.logRecords().find((r) => r.message === 'queue depth unreadable; holding its targets')).toEqual(
      expect.objectContaining({ queue: exportQueue, failure: 'denied' }),
    );
  });

  it('names the target on the error line of a failed reconcile and counts it by error name', async () => {
    // Prepare
    const out = captureOutput();
    const { logger, metrics } = powertools();
    const cluster = await fakeCluster([consumer('m2-consumer-export', exportQueue, 0, 0)]);
    cluster.fail({
      verb: 'update',
      resource: 'deployments/scale',
      status: 422,
      message: 'the scale is invalid',
    });

    // Act
    const pass = await reconcilePass(run.selector, run.policy, {
      cluster,
      signals: signals({ [exportQueue]: { visible: 450, inFlight: 0, delayed: 0 } }),
      log: powertoolsLog(logger),
      metrics: powertoolsMetricSink(metrics),
      now: Date.now,
    });

    // Assess
    expect(pass.failures).toHaveLength(1);
    const failed = out.logRecords().find((r) => r.message === 'reconcile failed');
    expect(failed).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        namespace: 'shop-a',
        deployment: 'm2-consumer-export',
        queue: exportQueue,
      }),
    );
    expect(out.metrics().filter((m) => m.name === names.targetErrors)).toEqual([
      expect.objectContaining({
        value: 1,
        dimensions: { reason: failed?.error, service: 'm2-eks-pipeline' },
      }),
    ]);
    // No gauges for a target whose decision was not carried out.
    expect(out.metrics().filter((m) => m.name === names.desiredReplicas)).toEqual([]);
  });
});
