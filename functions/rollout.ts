import { setTimeout as sleep } from 'node:timers/promises';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { codePipelineClient } from '../lib/aws/clients.ts';
import { sharedClusterClient } from '../lib/k8s/connection.ts';
import {
  lambdaContextOptions,
  logger,
  metrics,
  powertoolsLog,
  powertoolsMetricSink,
} from '../lib/observability/telemetry.ts';
import { runRollout } from '../lib/rollout/executor.ts';
import { s3ArtifactImageReader } from '../lib/rollout/imageArtifact.ts';
import { CodePipelineJobResults } from '../lib/rollout/jobResults.ts';
import { parsePipelineJob } from '../lib/rollout/pipelineJob.ts';

const results = new CodePipelineJobResults(codePipelineClient());
const log = powertoolsLog();
const metricSink = powertoolsMetricSink();
const readArtifactImage = s3ArtifactImageReader();

/**
 * CodePipeline Lambda invoke action → one step of a shop rollout (see lib/rollout/executor.ts).
 * The result always goes to CodePipeline (success, failure or continuation); the event itself is
 * never logged: it carries the artifact credentials.
 */
export const handler = middy(async (event: unknown, context: Context) => {
  const job = parsePipelineJob(event);
  const cluster = await sharedClusterClient();
  const result = await runRollout(job, {
    cluster,
    results,
    log,
    metrics: metricSink,
    now: Date.now,
    sleep,
    remainingMs: () => context.getRemainingTimeInMillis(),
    readArtifactImage,
  });
  return { jobId: job.id, outcome: result.outcome, reported: result.reported };
})
  .use(injectLambdaContext(logger, lambdaContextOptions))
  .use(logMetrics(metrics));
