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
 * consumerScaler as deployed, in this process: the EventBridge schedule invokes it once a minute from
 * now on; each invocation is the handler's runScaler with the function's default configuration
 * (`loadConsumerScalerConfig`: today its idle watch and reconcile cadence), overlapping invocations
 * allowed as with reserved concurrency 2. No alarm wake-up (issue 16 removed it). Returns a function
 * that stops scheduling and waits for the running invocations.
 */
export function scheduleConsumerScaler(options: {
  readonly selector: string;
  readonly cluster: ClusterClient;
  readonly sqs: SQSClient;
  readonly cloudWatch: CloudWatchClient;
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
  invoke();
  const timer = setInterval(invoke, 60_000);
  return async () => {
    clearInterval(timer);
    await Promise.all(running);
  };
}
