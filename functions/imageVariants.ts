import { s3Client } from '../lib/aws/clients.ts';
import { loadImageVariantsConfig } from '../lib/config/imageVariantsConfig.ts';
import { createImageVariantsHandler } from '../lib/images/imageVariantsHandler.ts';
import { S3VariantStore } from '../lib/images/variantStore.ts';
import { lambdaTelemetry } from '../lib/observability/telemetry.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const { bucket, settings } = loadImageVariantsConfig();

/** S3 ObjectCreated / ObjectRemoved on the media bucket → variants written or deleted. */
export const handler = createImageVariantsHandler({
  bucket,
  settings,
  store: new S3VariantStore(s3Client(), bucket),
  telemetry: lambdaTelemetry,
});
