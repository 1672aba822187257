import middy from '@middy/core';
import { type Telemetry, telemetryPorts } from '../observability/telemetry.ts';
import { telemetryMiddlewares } from '../observability/telemetryMiddlewares.ts';
import { InvalidEventError } from './errors.ts';
import { buildCacheTable } from './magento/cacheTable.ts';
import type { CryptKeySource } from './magento/cryptKeySource.ts';
import type { MagentoHashAlgorithm } from './magento/imageHash.ts';
import { magentoPlacement } from './magento/magentoGeometry.ts';
import type { ViewXmlTheme } from './magento/viewXml.ts';
import { processObjectEvents, type RecordResult, VariantBatchError } from './processObjectEvents.ts';
import { parseS3Records, s3EventSchema } from './s3Events.ts';
import type { MagentoSizes, VariantSettings } from './variantPipeline.ts';
import type { VariantStore } from './variantStore.ts';

export interface ImageVariantsHandlerDeps {
  /** The media bucket: records about any other bucket are skipped. */
  readonly bucket: string;
  readonly settings: VariantSettings;
  readonly store: VariantStore;
  readonly telemetry: Telemetry;
  /** Magento's `cache/<hash>/` sizes, pre-generated with the presets (see VariantDeps). */
  readonly magentoSizes?: (() => Promise<MagentoSizes>) | undefined;
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
  const variantDeps = {
    store: deps.store,
    magentoSizes: deps.magentoSizes,
    ...telemetryPorts(deps.telemetry),
  };
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

interface MagentoSizesOptions {
  readonly theme: ViewXmlTheme;
  readonly algorithms: readonly MagentoHashAlgorithm[];
  /** system/upload_configuration/jpeg_quality. */
  readonly quality: number;
  /** Needed for hmac-md5: the crypt key is a secret read at run time, never configuration. */
  readonly cryptKeys?: CryptKeySource | undefined;
}

/**
 * Magento's hash table for imageVariants, built on first use and again only when the crypt key
 * changed (the source caches the key for its TTL, so a rotation is picked up without a cold start).
 *
 * @example magentoSizesOf({ theme: lumaTheme, algorithms: ['md5'], quality: 80 })
 */
export function magentoSizesOf(options: MagentoSizesOptions): () => Promise<MagentoSizes> {
  const { theme, algorithms, quality, cryptKeys } = options;
  const keyed = algorithms.includes('hmac-md5');
  if (keyed && cryptKeys === undefined)
    throw new TypeError('magentoSizesOf: hmac-md5 needs a crypt key source');
  let built: { cryptKey: string | undefined; sizes: MagentoSizes } | undefined;
  return async () => {
    const cryptKey = keyed ? await cryptKeys?.cryptKey() : undefined;
    if (built !== undefined && built.cryptKey === cryptKey) return built.sizes;
    const table = buildCacheTable({
      theme,
      algorithm: algorithms,
      quality,
      ...(cryptKey === undefined ? {} : { cryptKeys: [cryptKey] }),
    });
    built = { cryptKey, sizes: { entries: table.entries, place: magentoPlacement } };
    return built.sizes;
  };
}
