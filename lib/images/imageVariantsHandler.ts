import middy from '@middy/core';
import { type Telemetry, telemetryPorts } from '../observability/telemetry.ts';
import { telemetryMiddlewares } from '../observability/telemetryMiddlewares.ts';
import { InvalidEventError } from './errors.ts';
import { processObjectEvents, type RecordResult, VariantBatchError } from './processObjectEvents.ts';
import { parseS3Records, s3EventSchema } from './s3Events.ts';
import type { VariantSettings } from './variantPipeline.ts';
import type { VariantStore } from './variantStore.ts';

export interface ImageVariantsHandlerDeps {
  /** The media bucket: records about any other bucket are skipped. */
  readonly bucket: string;
  readonly settings: VariantSettings;
  readonly store: VariantStore;
  readonly telemetry: Telemetry;
}

/** What the invocation returns for one record (failed records make it throw instead). */
export interface RecordReport {
  readonly key: string;
  readonly status: RecordResult['status'];
  readonly detail?: string;
}

/**
 * The imageVariants Lambda handler: S3 ObjectCreated / ObjectRemoved on the media bucket → generate
 * or delete variants. Bad images are rejected record by record; storage failures make the
 * invocation fail with {@link VariantBatchError} so Lambda retries it (every step is idempotent)
 * and finally hands it to the on-failure destination.
 *
 * @example export const handler = createImageVariantsHandler({ bucket, settings, store, telemetry: lambdaTelemetry })
 */
export function createImageVariantsHandler(deps: ImageVariantsHandlerDeps) {
  const variantDeps = { store: deps.store, ...telemetryPorts(deps.telemetry) };
  return middy(async (event: unknown): Promise<RecordReport[]> => {
    const envelope = s3EventSchema.safeParse(event);
    if (!envelope.success) {
      throw new InvalidEventError(
        `not an S3 notification event: ${envelope.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    const records = parseS3Records(envelope.data.Records);
    const summary = await processObjectEvents(records, deps.bucket, deps.settings, variantDeps);
    if (summary.failed.length > 0) throw new VariantBatchError(summary.failed);
    return summary.results.map((r) => ({
      key: r.key,
      status: r.status,
      ...(r.status === 'failed' ? {} : { detail: r.detail }),
    }));
  }).use(telemetryMiddlewares(deps.telemetry));
}
