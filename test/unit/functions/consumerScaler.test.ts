import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConsumerScalerConfig } from '../../../lib/config/consumerScalerConfig.ts';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { createConsumerScalerHandler } from '../../../lib/scaling/consumerScalerHandler.ts';
import { QueueReadError } from '../../../lib/scaling/errors.ts';
import type { QueueDepth, QueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { capturedTelemetry, lambdaContext } from '../observability/capture.ts';

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
  readArrivals: async () => new Map(),
});

function newHandler(cluster: () => Promise<ClusterClient>, queueSignals = signals()) {
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
  });
  return { out, connects, handler };
}

const unreachable = () => Promise.reject(new Error('DescribeCluster: Rate exceeded'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the consumerScaler handler', () => {
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
