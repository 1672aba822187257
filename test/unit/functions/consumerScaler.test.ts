import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConsumerScalerConfig } from '../../../lib/config/consumerScalerConfig.ts';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { targetAnnotations, targetLabel } from '../../../lib/scaling/annotations.ts';
import { createConsumerScalerHandler } from '../../../lib/scaling/consumerScalerHandler.ts';
import { QueueReadError, ReconcileIncompleteError } from '../../../lib/scaling/errors.ts';
import type { QueueDepth, QueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { type CapturedOutput, capturedTelemetry, lambdaContext } from '../observability/capture.ts';

const names = metricNames.consumerScaler;
const service = 'm2-eks-pipeline';
const namespace = 'shop-a';
const exportQueue = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-export';
const mediaQueue = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-media';
// One pass per invocation: the run stops for time after its first reconcile.
const run = { ...loadConsumerScalerConfig({}).run, maxRunMs: 0 };
const context = lambdaContext('consumerScaler', 256, 60_000);
const sample = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../events/${name}`, import.meta.url), 'utf8'));

/** Depths by queue URL; a missing queue reads as denied (AccessDenied). */
const signals = (depths: Record<string, QueueDepth> = {}): QueueSignals => ({
  readDepth: async (url) => {
    const depth = depths[url];
    if (depth === undefined) throw new QueueReadError(url, 'denied');
    return depth;
  },
  readQueueMetrics: async () => new Map(),
});

function newHandler(
  cluster: () => Promise<ClusterClient>,
  queueSignals = signals(),
  clock?: FakeCluster['clock'],
) {
  const { out, telemetry } = capturedTelemetry({ logEvents: true });
  const connects = { count: 0 };
  const handler = createConsumerScalerHandler({
    run,
    cluster: () => {
      connects.count++;
      return cluster();
    },
    signals: queueSignals,
    telemetry,
    ...(clock === undefined ? {} : { now: clock.now, sleep: clock.sleep }),
  });
  return { out, connects, handler };
}

/** A shop whose consumers are scaling targets of their queues (100 messages per pod, 0–10 pods). */
function newShop(consumers: Record<string, { queueUrl: string; replicas: number }>) {
  const cluster = new FakeCluster();
  for (const [name, { queueUrl, replicas }] of Object.entries(consumers)) {
    cluster.addDeployment(namespace, name, {
      replicas,
      labels: { [targetLabel]: 'true' },
      annotations: {
        [targetAnnotations.queueUrl]: queueUrl,
        [targetAnnotations.messagesPerPod]: '100',
        [targetAnnotations.minReplicas]: '0',
        [targetAnnotations.maxReplicas]: '10',
        [targetAnnotations.cooldownSeconds]: '300',
      },
    });
  }
  return cluster;
}

const replicasOf = (cluster: FakeCluster, name: string) =>
  cluster.object('deployments', namespace, name)?.spec?.replicas;

/** The per-target gauges, as [name, value, deployment], sorted. */
const gauges = (out: CapturedOutput) =>
  out
    .metrics()
    .filter((m) => [names.desiredReplicas, names.readyReplicas, names.queueBacklog].includes(m.name as never))
    .map((m) => {
      expect(m.dimensions).toEqual({ namespace, deployment: m.dimensions.deployment, service });
      return [m.name, m.value, m.dimensions.deployment];
    })
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const unreachable = () => Promise.reject(new Error('DescribeCluster: Rate exceeded'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the consumerScaler handler', () => {
  it('scales each target to its backlog in one pass and reports the changes', async () => {
    // Prepare: 480 messages for a sleeping consumer; 40 in flight for one with more pods than that needs.
    const cluster = newShop({
      'm2-consumer-export': { queueUrl: exportQueue, replicas: 0 },
      'm2-consumer-media': { queueUrl: mediaQueue, replicas: 2 },
    });
    const { handler } = newHandler(
      async () => cluster,
      signals({
        [exportQueue]: { visible: 450, inFlight: 30, delayed: 5 },
        [mediaQueue]: { visible: 0, inFlight: 40, delayed: 0 },
      }),
      cluster.clock,
    );

    // Act
    const report = await handler(sample('schedule.json'), context);

    // Assess
    expect(report).toEqual({
      passes: 1,
      stoppedBecause: 'time',
      targets: 2,
      changes: expect.arrayContaining([
        { namespace, deployment: 'm2-consumer-export', from: 0, to: 5 },
        { namespace, deployment: 'm2-consumer-media', from: 2, to: 1 },
      ]),
    });
    expect(report.changes).toHaveLength(2);
    expect([replicasOf(cluster, 'm2-consumer-export'), replicasOf(cluster, 'm2-consumer-media')]).toEqual([
      5, 1,
    ]);
  });

  it('emits desired and Ready replicas and the backlog per target, and a scale event per direction', async () => {
    // Prepare
    const cluster = newShop({
      'm2-consumer-export': { queueUrl: exportQueue, replicas: 0 },
      'm2-consumer-media': { queueUrl: mediaQueue, replicas: 2 },
    });
    const { out, handler } = newHandler(
      async () => cluster,
      signals({
        [exportQueue]: { visible: 450, inFlight: 30, delayed: 5 },
        [mediaQueue]: { visible: 0, inFlight: 40, delayed: 0 },
      }),
      cluster.clock,
    );

    // Act
    await handler(sample('cloudwatch-alarm.json'), context);

    // Assess
    expect(gauges(out)).toEqual(
      [
        [names.desiredReplicas, 5, 'm2-consumer-export'],
        [names.readyReplicas, 0, 'm2-consumer-export'],
        [names.queueBacklog, 480, 'm2-consumer-export'],
        [names.desiredReplicas, 1, 'm2-consumer-media'],
        [names.readyReplicas, 2, 'm2-consumer-media'],
        [names.queueBacklog, 40, 'm2-consumer-media'],
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    expect(
      out
        .metrics()
        .filter((m) => m.name === names.scaleEvents)
        .map((m) => [m.value, m.dimensions.direction])
        .sort(),
    ).toEqual([
      [1, 'down'],
      [1, 'up'],
    ]);
    expect(
      out.logRecords().find((r) => r.message === 'scaled' && r.deployment === 'm2-consumer-export'),
    ).toEqual(
      expect.objectContaining({ namespace, queue: exportQueue, function_request_id: context.awsRequestId }),
    );
  });

  it('holds a target whose queue is unreadable: no backlog point, the read error counted and named by queue', async () => {
    // Prepare
    const cluster = newShop({ 'm2-consumer-export': { queueUrl: exportQueue, replicas: 3 } });
    const { out, handler } = newHandler(async () => cluster, signals({}), cluster.clock);

    // Act
    const report = await handler(sample('schedule.json'), context);

    // Assess
    expect(report.changes).toEqual([]);
    expect(replicasOf(cluster, 'm2-consumer-export')).toBe(3);
    expect(gauges(out)).toEqual([
      [names.desiredReplicas, 3, 'm2-consumer-export'],
      [names.readyReplicas, 3, 'm2-consumer-export'],
    ]);
    expect(out.metrics().filter((m) => m.name === names.queueReadErrors)).toEqual([
      expect.objectContaining({ value: 1, dimensions: { reason: 'denied', service } }),
    ]);
    expect(out.logRecords().find((r) => r.message === 'queue depth unreadable; holding its targets')).toEqual(
      expect.objectContaining({ queue: exportQueue, failure: 'denied' }),
    );
  });

  it('fails the invocation naming the target whose write was refused, its neighbour scaled', async () => {
    // Prepare: RBAC refuses the scale write of one Deployment.
    const cluster = newShop({
      'm2-consumer-export': { queueUrl: exportQueue, replicas: 0 },
      'm2-consumer-media': { queueUrl: mediaQueue, replicas: 0 },
    });
    cluster.fail({
      verb: 'update',
      resource: 'deployments/scale',
      name: 'm2-consumer-export',
      status: 403,
      times: 100,
    });
    const { out, handler } = newHandler(
      async () => cluster,
      signals({
        [exportQueue]: { visible: 450, inFlight: 0, delayed: 0 },
        [mediaQueue]: { visible: 250, inFlight: 0, delayed: 0 },
      }),
      cluster.clock,
    );

    // Act
    const invocation = handler(sample('schedule.json'), context);

    // Assess
    await expect(invocation).rejects.toThrow(ReconcileIncompleteError);
    await expect(invocation).rejects.toMatchObject({
      failures: [expect.objectContaining({ namespace, deployment: 'm2-consumer-export' })],
    });
    expect([replicasOf(cluster, 'm2-consumer-export'), replicasOf(cluster, 'm2-consumer-media')]).toEqual([
      0, 3,
    ]);
    const failed = out.logRecords().find((r) => r.message === 'reconcile failed');
    expect(failed).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        namespace,
        deployment: 'm2-consumer-export',
        queue: exportQueue,
      }),
    );
    expect(out.metrics().filter((m) => m.name === names.targetErrors)).toEqual([
      expect.objectContaining({ value: 1, dimensions: { reason: failed?.error, service } }),
    ]);
    // No gauges for a target whose decision was not carried out.
    expect(gauges(out).filter(([, , deployment]) => deployment === 'm2-consumer-export')).toEqual([]);
  });

  it.each([
    ['an S3 notification', sample('s3-object-created.json'), 'detail-type: none'],
    [
      'another EventBridge event',
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' },
      'EC2 Instance',
    ],
    [
      'an alarm event without its state',
      {
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        detail: { alarmName: 'a' },
      },
      'CloudWatch Alarm State Change',
    ],
  ])('fails the invocation for %s before connecting to the cluster', async (_, event, detail) => {
    // Prepare
    const { out, connects, handler } = newHandler(unreachable);

    // Act
    const invocation = handler(event, context);

    // Assess
    await expect(invocation).rejects.toThrow(/^not a CloudWatch Alarm State Change or Scheduled Event/);
    await expect(invocation).rejects.toThrow(detail);
    expect(connects.count).toBe(0);
    expect(out.logRecords().filter((r) => r.level !== 'DEBUG')).toEqual([]);
  });

  it('fails the invocation when the cluster cannot be reached, after logging what triggered it', async () => {
    // Prepare
    const { out, handler } = newHandler(unreachable);

    // Act
    const invocation = handler(sample('cloudwatch-alarm.json'), context);

    // Assess
    await expect(invocation).rejects.toThrow('DescribeCluster: Rate exceeded');
    expect(out.logRecords().filter((r) => r.level !== 'DEBUG')).toEqual([
      expect.objectContaining({
        message: 'reconcile triggered',
        kind: 'alarm',
        alarmName: 'm2-eks-pipeline-dev-shop-queue-backlog',
        state: 'ALARM',
        function_request_id: context.awsRequestId,
      }),
    ]);
    // The alarm's reason text is in the event, never in a log line.
    expect(out.lines.filter((line) => line.includes('Threshold Crossed'))).toEqual([]);
  });
});
