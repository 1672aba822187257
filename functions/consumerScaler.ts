import { cloudWatchClient, sqsClient } from '../lib/aws/clients.ts';
import { loadConsumerScalerConfig } from '../lib/config/consumerScalerConfig.ts';
import { clusterSettingsFromEnv } from '../lib/k8s/clusterSettings.ts';
import { sharedClusterClient } from '../lib/k8s/connection.ts';
import { lambdaTelemetry, powertoolsLog } from '../lib/observability/telemetry.ts';
import { traced } from '../lib/observability/tracer.ts';
import { createConsumerScalerHandler } from '../lib/scaling/consumerScalerHandler.ts';
import { SqsQueueSignals } from '../lib/scaling/queueSignals.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const config = loadConsumerScalerConfig();
const clusterSettings = clusterSettingsFromEnv();

/** SQS depth alarm (EventBridge) or the 1-minute schedule → every consumer Deployment reconciled. */
export const handler = createConsumerScalerHandler({
  run: config.run,
  // Connected on the first invocation, then reused by warm ones (token cache included).
  cluster: () => sharedClusterClient(clusterSettings),
  signals: new SqsQueueSignals({
    sqs: traced(sqsClient()),
    ...(config.arrivalMetrics ? { cloudWatch: traced(cloudWatchClient()) } : {}),
    log: powertoolsLog(lambdaTelemetry.logger),
  }),
  telemetry: lambdaTelemetry,
});
