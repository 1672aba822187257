import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadConsumerScalerConfig } from '../../../lib/config/consumerScalerConfig.ts';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import type { Log, MetricSink } from '../../../lib/observability/telemetry.ts';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { SqsQueueSignals } from '../../../lib/scaling/queueSignals.ts';
import { runScaler } from '../../../lib/scaling/runScaler.ts';

/** The Lambda's timeout (serverless.yml): what `remainingMs` counts down from. */
const invocationTimeoutMs = 70_000;

const quietMetrics: MetricSink = {
  count: () => undefined,
  milliseconds: () => undefined,
  bytes: () => undefined,
};

/** Warnings and errors only, one line each, so a failing reconcile shows in the bench's output. */
const benchLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => console.error(`[consumerScaler] ${message}`, JSON.stringify(fields ?? {})),
  error: (message, fields) => console.error(`[consumerScaler] ${message}`, JSON.stringify(fields ?? {})),
};

/**
 * consumerScaler as deployed, in this process: the EventBridge schedule invokes it once a minute (the
 * phase relative to the burst is `phaseMs`), each invocation is the handler's runScaler with the
 * function's default configuration (reconcile every 10 s while active, at most 50 s), overlapping
 * invocations allowed as with reserved concurrency 2. The depth alarm is left out: SQS publishes its
 * metric once a minute and late, so it cannot fire within the first 3 minutes of a burst (issue 16).
 * Returns a function that stops scheduling and waits for the running invocations.
 */
export function scheduleConsumerScaler(options: {
  readonly selector: string;
  readonly cluster: ClusterClient;
  readonly sqs: SQSClient;
  readonly cloudWatch: CloudWatchClient;
  readonly phaseMs: number;
}): () => Promise<void> {
  const config = loadConsumerScalerConfig({ SCALER_TARGET_SELECTOR: options.selector });
  const signals = new SqsQueueSignals({ sqs: options.sqs, cloudWatch: options.cloudWatch, log: benchLog });
  // One recorder for the warm container's invocations, as the handler keeps one.
  const events = new EventRecorder();
  const running = new Set<Promise<unknown>>();
  const invoke = (): void => {
    const startedAt = Date.now();
    const run = runScaler(config.run, {
      cluster: options.cluster,
      signals,
      log: benchLog,
      metrics: quietMetrics,
      events,
      now: Date.now,
      remainingMs: () => invocationTimeoutMs - (Date.now() - startedAt),
      sleep: (ms) => sleep(ms),
    })
      .catch((error: unknown) => console.error('[consumerScaler] invocation failed', error))
      .finally(() => running.delete(run));
    running.add(run);
  };
  let timer: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    invoke();
    timer = setInterval(invoke, 60_000);
  }, options.phaseMs);
  return async () => {
    clearTimeout(first);
    if (timer !== undefined) clearInterval(timer);
    await Promise.all(running);
  };
}
