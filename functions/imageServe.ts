import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { z } from 'zod';
import { s3Client } from '../lib/aws/clients.ts';
import { loadImageServeConfig } from '../lib/config/imageServeConfig.ts';
import { serveImage } from '../lib/images/imageServer.ts';
import { S3ServedObjectStore } from '../lib/images/servedObjectStore.ts';
import {
  lambdaContextOptions,
  logger,
  metrics,
  powertoolsLog,
  powertoolsMetricSink,
} from '../lib/observability/telemetry.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const config = loadImageServeConfig();
const deps = {
  store: new S3ServedObjectStore(s3Client(), config.bucket),
  log: powertoolsLog(),
  metrics: powertoolsMetricSink(),
};

// The function URL payload (API Gateway v2 shape): only the fields we read, header names lowercase.
const eventSchema = z.object({
  rawPath: z.string(),
  rawQueryString: z.string().default(''),
  headers: z.record(z.string(), z.string()).default({}),
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
});

/** Function URL (behind CloudFront) → one image, a 304, a redirect or a plain-text refusal. */
export const handler = middy(async (event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> => {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success)
    throw new Error(`not a function URL event: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const { rawPath, rawQueryString, headers, requestContext } = parsed.data;
  const response = await serveImage(
    {
      method: requestContext.http.method,
      rawPath,
      rawQuery: rawQueryString,
      accept: headers.accept,
      ifNoneMatch: headers['if-none-match'],
    },
    config.settings,
    deps,
  );
  const body = response.body;
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    ...(body === undefined
      ? {}
      : Buffer.isBuffer(body)
        ? { body: body.toString('base64'), isBase64Encoded: true }
        : { body, isBase64Encoded: false }),
  };
})
  .use(injectLambdaContext(logger, lambdaContextOptions))
  .use(logMetrics(metrics));
