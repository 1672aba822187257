import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { S3Event } from 'aws-lambda';
import { s3Client } from '../lib/aws/clients.ts';
import { loadImageVariantsConfig } from '../lib/config/imageVariantsConfig.ts';
import { processObjectEvents, VariantBatchError } from '../lib/images/processObjectEvents.ts';
import { parseS3Records, s3EventSchema } from '../lib/images/s3Events.ts';
import { S3VariantStore } from '../lib/images/variantStore.ts';
import {
  lambdaContextOptions,
  logger,
  metrics,
  powertoolsLog,
  powertoolsMetricSink,
} from '../lib/observability/telemetry.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const config = loadImageVariantsConfig();
const store = new S3VariantStore(s3Client(), config.bucket);
const deps = { store, log: powertoolsLog(), metrics: powertoolsMetricSink() };

/**
 * S3 ObjectCreated / ObjectRemoved on the media bucket → generate or delete variants.
 * Bad images are rejected record by record; storage failures make the invocation fail so Lambda
 * retries it (every step is idempotent) and finally hands it to the on-failure destination.
 */
export const handler = middy(async (event: S3Event) => {
  const envelope = s3EventSchema.safeParse(event);
  if (!envelope.success) {
    throw new Error(`not an S3 notification event: ${envelope.error.issues[0]?.message ?? 'invalid'}`);
  }
  const summary = await processObjectEvents(
    parseS3Records(envelope.data.Records),
    config.bucket,
    config.settings,
    deps,
  );
  if (summary.failed.length > 0) throw new VariantBatchError(summary.failed);
  return summary.results.map((r) => ({
    key: r.key,
    status: r.status,
    ...(r.status === 'failed' ? {} : { detail: r.detail }),
  }));
})
  .use(injectLambdaContext(logger, lambdaContextOptions))
  .use(logMetrics(metrics));
