import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueReadError } from '../../../lib/scaling/errors.ts';
import { classifyQueueError, SqsQueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const queueA = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-products';
const queueB = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-b-media';
const sqs = mockClient(SQSClient);
const cloudWatch = mockClient(CloudWatchClient);

afterEach(() => {
  sqs.reset();
  cloudWatch.reset();
});

const signals = (now = () => 0) => {
  const telemetry = recordingTelemetry();
  return {
    telemetry,
    source: new SqsQueueSignals({
      sqs: new SQSClient({ region: 'us-east-1' }),
      cloudWatch: new CloudWatchClient({ region: 'us-east-1' }),
      log: telemetry.log,
      now,
    }),
  };
};

describe('SqsQueueSignals', () => {
  it('throws a QueueReadError when SQS answers without the counts', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3' } });
    await expect(signals().source.readDepth(queueA)).rejects.toBeInstanceOf(QueueReadError);
  });

  it('maps the latest datapoint of each queue to messages per second, by query id', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'a1', Values: [120, 60], Timestamps: [new Date(120_000), new Date(60_000)] },
        { Id: 'a0', Values: [], Timestamps: [] },
      ],
    });
    const metrics = await signals().source.readQueueMetrics([queueA, queueB]);
    expect([...metrics]).toEqual([[queueB, { arrivalsPerSecond: 2 }]]);
    const queries = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
    const query = queries.find((q) => q.Id === 'a1');
    expect(query?.MetricStat?.Metric?.Dimensions).toEqual([{ Name: 'QueueName', Value: 'shop-b-media' }]);
    expect(query?.MetricStat?.Metric?.MetricName).toBe('NumberOfMessagesSent');
  });

  it('reads the age of the oldest message as its minute maximum, stamped with the end of that minute, and the deletes', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'o0', Values: [95, 35], Timestamps: [new Date(180_000), new Date(120_000)] },
        { Id: 'a0', Values: [30], Timestamps: [new Date(180_000)] },
        { Id: 'd0', Values: [90], Timestamps: [new Date(180_000)] },
      ],
    });
    const metrics = await signals().source.readQueueMetrics([queueA]);
    expect(metrics.get(queueA)).toEqual({
      arrivalsPerSecond: 0.5,
      deletedPerSecond: 1.5,
      oldestMessageAge: { seconds: 95, at: 240_000 },
    });
    const queries = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
    expect(queries.find((q) => q.Id === 'o0')?.MetricStat).toMatchObject({
      Metric: { MetricName: 'ApproximateAgeOfOldestMessage' },
      Stat: 'Maximum',
      Period: 60,
    });
  });

  it('asks at most 500 queries per GetMetricData call', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const urls = Array.from(
      { length: 251 },
      (_, i) => `https://sqs.us-east-1.amazonaws.com/123456789012/shop-q${i}`,
    );
    await signals().source.readQueueMetrics(urls);
    const sizes = cloudWatch
      .commandCalls(GetMetricDataCommand)
      .map((call) => call.args[0].input.MetricDataQueries?.length);
    // Three metrics per queue: 166 queues (498 queries), then the other 85.
    expect(sizes).toEqual([498, 255]);
  });

  it('reads CloudWatch once a minute, not on every pass', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    let now = 0;
    const { source } = signals(() => now);
    await source.readQueueMetrics([queueA]);
    now = 30_000;
    await source.readQueueMetrics([queueA]);
    now = 61_000;
    await source.readQueueMetrics([queueA]);
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('degrades to no queue metrics when CloudWatch fails', async () => {
    cloudWatch.on(GetMetricDataCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const { source, telemetry } = signals();
    await expect(source.readQueueMetrics([queueA])).resolves.toEqual(new Map());
    expect(telemetry.lines).toContainEqual({
      level: 'warn',
      message: 'queue metrics unavailable',
      fields: { queues: 1, error: 'AccessDenied' },
    });
  });

  it.each([
    ['ThrottlingException', 400, 'throttled'],
    ['RequestThrottled', 403, 'throttled'],
    ['AccessDeniedException', 400, 'denied'],
    ['SomethingElse', 403, 'denied'],
    ['QueueDoesNotExist', 400, 'not-found'],
    ['AWS.SimpleQueueService.NonExistentQueue', 400, 'not-found'],
    ['InternalError', 500, 'unavailable'],
  ])('classifies %s (%i) as %s', (name, status, failure) => {
    const error = Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(classifyQueueError(error)).toBe(failure);
  });
});
