import { setTimeout as sleep } from 'node:timers/promises';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { cloudWatchClient, sqsClient } from '../lib/aws/clients.ts';
import { loadConsumerScalerConfig } from '../lib/config/consumerScalerConfig.ts';
import { sharedClusterClient } from '../lib/k8s/connection.ts';
import {
  lambdaContextOptions,
  logger,
  metrics,
  powertoolsLog,
  powertoolsMetricSink,
} from '../lib/observability/telemetry.ts';
import { ReconcileIncompleteError } from '../lib/scaling/errors.ts';
import { SqsQueueSignals } from '../lib/scaling/queueSignals.ts';
import { runScaler } from '../lib/scaling/runScaler.ts';
import { parseScalerTrigger } from '../lib/scaling/trigger.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const config = loadConsumerScalerConfig();
const log = powertoolsLog();
const signals = new SqsQueueSignals({
  sqs: sqsClient(),
  ...(config.arrivalMetrics ? { cloudWatch: cloudWatchClient() } : {}),
  log,
});

/**
 * SQS depth alarm (EventBridge) or the 1-minute schedule → reconcile every consumer Deployment
 * labelled as a scaling target, repeatedly while queues are busy and the invocation has time.
 */
export const handler = middy(async (event: unknown, context: Context) => {
  const trigger = parseScalerTrigger(event);
  logger.info('reconcile triggered', { ...trigger });
  const cluster = await sharedClusterClient();
  const result = await runScaler(config.run, {
    cluster,
    signals,
    log,
    metrics: powertoolsMetricSink(),
    now: Date.now,
    remainingMs: () => context.getRemainingTimeInMillis(),
    sleep,
  });
  if (result.failures.length > 0) throw new ReconcileIncompleteError(result.failures);
  return {
    passes: result.passes,
    stoppedBecause: result.stoppedBecause,
    targets: result.last.targets,
    changes: result.changes,
  };
})
  .use(injectLambdaContext(logger, lambdaContextOptions))
  .use(logMetrics(metrics));
