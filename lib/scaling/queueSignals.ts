import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { Log } from '../observability/telemetry.ts';
import { QueueReadError, type QueueReadFailure } from './errors.ts';
import { queueNameOf } from './target.ts';

/** SQS approximate counts of one queue. */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** The two signal calls the scaler makes; the reconcile loop only sees this. */
export interface QueueSignals {
  /** GetQueueAttributes; throws QueueReadError naming the failure. */
  readDepth(queueUrl: string): Promise<QueueDepth>;
  /**
   * Messages sent per second over the latest CloudWatch minute, per queue URL. Queues without a
   * datapoint are absent; a failing CloudWatch yields an empty map (the floor is an optimisation,
   * not a safety property, so its absence never blocks a decision).
   */
  readArrivals(queueUrls: readonly string[]): Promise<ReadonlyMap<string, number>>;
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
  readonly arrivalsCacheMs?: number;
  readonly now?: () => number;
}

/** {@link QueueSignals} over SQS GetQueueAttributes and CloudWatch GetMetricData (AWS/SQS NumberOfMessagesSent). */
export class SqsQueueSignals implements QueueSignals {
  readonly #sqs: SQSClient;
  readonly #cloudWatch: CloudWatchClient | undefined;
  readonly #log: Log;
  readonly #cacheMs: number;
  readonly #now: () => number;
  #cache:
    | { readonly key: string; readonly at: number; readonly value: ReadonlyMap<string, number> }
    | undefined;

  constructor(options: SqsQueueSignalsOptions) {
    this.#sqs = options.sqs;
    this.#cloudWatch = options.cloudWatch;
    this.#log = options.log;
    this.#cacheMs = options.arrivalsCacheMs ?? 60_000;
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

  async readArrivals(queueUrls: readonly string[]): Promise<ReadonlyMap<string, number>> {
    if (this.#cloudWatch === undefined || queueUrls.length === 0) return new Map();
    const key = [...queueUrls].sort().join(' ');
    const now = this.#now();
    if (this.#cache?.key === key && now - this.#cache.at < this.#cacheMs) return this.#cache.value;
    const value = await this.#fetchArrivals(this.#cloudWatch, queueUrls, now);
    this.#cache = { key, at: now, value };
    return value;
  }

  async #fetchArrivals(
    cw: CloudWatchClient,
    queueUrls: readonly string[],
    now: number,
  ): Promise<Map<string, number>> {
    const arrivals = new Map<string, number>();
    // GetMetricData takes at most 500 queries per call.
    for (let start = 0; start < queueUrls.length; start += 500) {
      const chunk = queueUrls.slice(start, start + 500);
      const queries: MetricDataQuery[] = chunk.map((url, i) => ({
        Id: `q${start + i}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SQS',
            MetricName: 'NumberOfMessagesSent',
            Dimensions: [{ Name: 'QueueName', Value: queueNameOf(url) }],
          },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: true,
      }));
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
          const index = Number(result.Id?.slice(1));
          const url = queueUrls[index];
          const latest = result.Values?.[0];
          if (url !== undefined && latest !== undefined && Number.isFinite(latest) && latest >= 0) {
            arrivals.set(url, latest / 60);
          }
        }
      } catch (error) {
        this.#log.warn('arrival rates unavailable', {
          queues: chunk.length,
          error: error instanceof Error ? error.name : String(error),
        });
      }
    }
    return arrivals;
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
