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
        { Id: 'q1', Values: [120, 60], Timestamps: [new Date(120_000), new Date(60_000)] },
        { Id: 'q0', Values: [], Timestamps: [] },
      ],
    });
    const arrivals = await signals().source.readArrivals([queueA, queueB]);
    expect([...arrivals]).toEqual([[queueB, 2]]);
    const query = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[1];
    expect(query?.MetricStat?.Metric?.Dimensions).toEqual([{ Name: 'QueueName', Value: 'shop-b-media' }]);
  });

  it('reads CloudWatch once a minute, not on every pass', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    let now = 0;
    const { source } = signals(() => now);
    await source.readArrivals([queueA]);
    now = 30_000;
    await source.readArrivals([queueA]);
    now = 61_000;
    await source.readArrivals([queueA]);
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('degrades to no arrival rates when CloudWatch fails', async () => {
    cloudWatch.on(GetMetricDataCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const { source, telemetry } = signals();
    await expect(source.readArrivals([queueA])).resolves.toEqual(new Map());
    expect(telemetry.lines).toContainEqual({
      level: 'warn',
      message: 'arrival rates unavailable',
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
