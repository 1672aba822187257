import { s3Client } from '../lib/aws/clients.ts';
import { loadImageServeConfig } from '../lib/config/imageServeConfig.ts';
import { createImageServeHandler } from '../lib/images/imageServeHandler.ts';
import { S3ServedObjectStore } from '../lib/images/servedObjectStore.ts';
import { lambdaTelemetry } from '../lib/observability/telemetry.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const { bucket, settings } = loadImageServeConfig();

/** Function URL (behind CloudFront) → one image, a 304, a redirect or a plain-text refusal. */
export const handler = createImageServeHandler({
  settings,
  store: new S3ServedObjectStore(s3Client(), bucket),
  telemetry: lambdaTelemetry,
});
