import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { Log } from '../observability/telemetry.ts';
import { QueueReadError, type QueueReadFailure } from './errors.ts';
import { queueNameOf } from './target.ts';
import type { OldestMessageAge } from './waitSlo.ts';

/** SQS approximate counts of one queue. */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** What CloudWatch's latest published minute says about one queue; a field is absent without a datapoint. */
export interface QueueMetrics {
  /** NumberOfMessagesSent (Sum) of the latest minute, per second. */
  readonly arrivalsPerSecond?: number;
  /** ApproximateAgeOfOldestMessage (Maximum) of the latest minute, and when that minute ended. */
  readonly oldestMessageAge?: OldestMessageAge;
  /** NumberOfMessagesDeleted (Sum) of the latest minute, per second: what the consumers finished. */
  readonly deletedPerSecond?: number;
}

/** The two signal calls the scaler makes; the reconcile loop only sees this. */
export interface QueueSignals {
  /** GetQueueAttributes; throws QueueReadError naming the failure. */
  readDepth(queueUrl: string): Promise<QueueDepth>;
  /**
   * The latest CloudWatch minute of each queue (arrival rate, age of the oldest message), per queue
   * URL. Queues without a datapoint are absent; a failing CloudWatch yields an empty map (the
   * arrival floor and the wait SLO are sized on these, but their absence never blocks a decision:
   * the backlog term still applies).
   */
  readQueueMetrics(queueUrls: readonly string[]): Promise<ReadonlyMap<string, QueueMetrics>>;
}

const depthAttributes: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

export interface SqsQueueSignalsOptions {
  readonly sqs: SQSClient;
  readonly cloudWatch?: CloudWatchClient;
  readonly log: Log;
  /** CloudWatch resolves SQS metrics per minute: one GetMetricData per this many ms is enough. */
  readonly metricsCacheMs?: number;
  readonly now?: () => number;
}

/** The CloudWatch metrics read per queue, each a query of one GetMetricData call. */
const metricQueries = [
  { prefix: 'a', metricName: 'NumberOfMessagesSent', stat: 'Sum' },
  { prefix: 'o', metricName: 'ApproximateAgeOfOldestMessage', stat: 'Maximum' },
  { prefix: 'd', metricName: 'NumberOfMessagesDeleted', stat: 'Sum' },
] as const;
/** GetMetricData takes at most 500 queries per call. */
const queuesPerCall = Math.floor(500 / metricQueries.length);
const periodSeconds = 60;

/**
 * {@link QueueSignals} over SQS GetQueueAttributes and CloudWatch GetMetricData (AWS/SQS
 * NumberOfMessagesSent, ApproximateAgeOfOldestMessage and NumberOfMessagesDeleted).
 */
export class SqsQueueSignals implements QueueSignals {
  readonly #sqs: SQSClient;
  readonly #cloudWatch: CloudWatchClient | undefined;
  readonly #log: Log;
  readonly #cacheMs: number;
  readonly #now: () => number;
  #cache:
    | { readonly key: string; readonly at: number; readonly value: ReadonlyMap<string, QueueMetrics> }
    | undefined;

  constructor(options: SqsQueueSignalsOptions) {
    this.#sqs = options.sqs;
    this.#cloudWatch = options.cloudWatch;
    this.#log = options.log;
    this.#cacheMs = options.metricsCacheMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  async readDepth(queueUrl: string): Promise<QueueDepth> {
    let attributes: Partial<Record<string, string>>;
    try {
      const out = await this.#sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: depthAttributes }),
      );
      attributes = out.Attributes ?? {};
    } catch (error) {
      throw new QueueReadError(queueUrl, classifyQueueError(error), { cause: error });
    }
    const count = (name: string): number => {
      const value = Number(attributes[name]);
      if (!Number.isInteger(value) || value < 0) {
        throw new QueueReadError(queueUrl, 'unavailable', {
          detail: `${name} is missing or not a count: ${String(attributes[name])}`,
        });
      }
      return value;
    };
    return {
      visible: count('ApproximateNumberOfMessages'),
      inFlight: count('ApproximateNumberOfMessagesNotVisible'),
      delayed: count('ApproximateNumberOfMessagesDelayed'),
    };
  }

  async readQueueMetrics(queueUrls: readonly string[]): Promise<ReadonlyMap<string, QueueMetrics>> {
    if (this.#cloudWatch === undefined || queueUrls.length === 0) return new Map();
    const key = [...queueUrls].sort().join(' ');
    const now = this.#now();
    if (this.#cache?.key === key && now - this.#cache.at < this.#cacheMs) return this.#cache.value;
    const value = await this.#fetchMetrics(this.#cloudWatch, queueUrls, now);
    this.#cache = { key, at: now, value };
    return value;
  }

  async #fetchMetrics(
    cw: CloudWatchClient,
    queueUrls: readonly string[],
    now: number,
  ): Promise<Map<string, QueueMetrics>> {
    const metrics = new Map<string, QueueMetrics>();
    for (let start = 0; start < queueUrls.length; start += queuesPerCall) {
      const chunk = queueUrls.slice(start, start + queuesPerCall);
      const queries: MetricDataQuery[] = chunk.flatMap((url, i) =>
        metricQueries.map(({ prefix, metricName, stat }) => ({
          Id: `${prefix}${start + i}`,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: metricName,
              Dimensions: [{ Name: 'QueueName', Value: queueNameOf(url) }],
            },
            Period: periodSeconds,
            Stat: stat,
          },
          ReturnData: true,
        })),
      );
      try {
        const out = await cw.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            // SQS metrics arrive a few minutes late: look back far enough to find the latest one.
            StartTime: new Date(now - 6 * 60_000),
            EndTime: new Date(now),
            ScanBy: 'TimestampDescending',
          }),
        );
        for (const result of out.MetricDataResults ?? []) {
          addDatapoint(metrics, queueUrls, result);
        }
      } catch (error) {
        this.#log.warn('queue metrics unavailable', {
          queues: chunk.length,
          error: error instanceof Error ? error.name : String(error),
        });
      }
    }
    return metrics;
  }
}

/** Files the latest datapoint of one query under its queue (the query id names metric and queue). */
function addDatapoint(
  metrics: Map<string, QueueMetrics>,
  queueUrls: readonly string[],
  result: MetricDataResult,
): void {
  const prefix = result.Id?.[0];
  const url = queueUrls[Number(result.Id?.slice(1))];
  const latest = result.Values?.[0];
  if (url === undefined || latest === undefined || !Number.isFinite(latest) || latest < 0) return;
  const known = metrics.get(url) ?? {};
  if (prefix === 'a') metrics.set(url, { ...known, arrivalsPerSecond: latest / periodSeconds });
  if (prefix === 'd') metrics.set(url, { ...known, deletedPerSecond: latest / periodSeconds });
  const minuteStart = result.Timestamps?.[0]?.getTime();
  if (prefix === 'o' && minuteStart !== undefined) {
    metrics.set(url, {
      ...known,
      oldestMessageAge: { seconds: latest, at: minuteStart + periodSeconds * 1000 },
    });
  }
}

/** Maps an SQS SDK error to why the read failed. */
export function classifyQueueError(error: unknown): QueueReadFailure {
  const name = error instanceof Error ? error.name : '';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  if (/Throttl|RequestThrottled|OverLimit|TooManyRequests/i.test(name) || status === 429) return 'throttled';
  if (/AccessDenied|NotAuthorized|Forbidden|KmsAccessDenied|InvalidSecurity/i.test(name) || status === 403)
    return 'denied';
  if (/QueueDoesNotExist|NonExistentQueue/i.test(name)) return 'not-found';
  return 'unavailable';
}
