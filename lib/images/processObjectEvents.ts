import { messageOf } from '../common/messageOf.ts';
import { metricNames } from '../observability/metricNames.ts';
import { withFields } from '../observability/telemetry.ts';
import { ImageRejectedError } from './errors.ts';
import { classifyKey } from './keyLayout.ts';
import type { ObjectEvent, ParsedRecord } from './s3Events.ts';
import { createVariants, removeVariants, type VariantDeps, type VariantSettings } from './variantPipeline.ts';

/** imageVariantsHandler and the integration tests import it from here. */
export { VariantBatchError } from './errors.ts';

const names = metricNames.imageVariants;

export type RecordResult =
  | { readonly status: 'generated' | 'removed' | 'skipped'; readonly key: string; readonly detail: string }
  | { readonly status: 'rejected'; readonly key: string; readonly reason: string; readonly detail: string }
  | { readonly status: 'failed'; readonly key: string; readonly error: unknown };

export interface BatchSummary {
  readonly results: readonly RecordResult[];
  readonly failed: readonly RecordResult[];
}

/**
 * Applies each S3 record on its own: one bad record never fails its neighbours. Rejections
 * (bad images, malformed records) are permanent and only logged and counted; failures
 * (storage errors) are returned so the caller can make the platform retry the batch —
 * safe, because every step is idempotent.
 */
export async function processObjectEvents(
  records: readonly ParsedRecord[],
  bucket: string,
  settings: VariantSettings,
  deps: VariantDeps,
): Promise<BatchSummary> {
  const results: RecordResult[] = [];
  for (const record of records) {
    if (!record.ok) {
      deps.log.error('malformed S3 record', { recordIndex: record.index, problem: record.problem });
      deps.metrics.count(names.rejected, 1, { reason: 'malformed-record' });
      results.push({
        status: 'rejected',
        key: `#${record.index}`,
        reason: 'malformed-record',
        detail: record.problem,
      });
      continue;
    }
    results.push(await processOne(record.event, bucket, settings, deps));
  }
  return { results, failed: results.filter((r) => r.status === 'failed') };
}

async function processOne(
  event: ObjectEvent,
  bucket: string,
  settings: VariantSettings,
  deps: VariantDeps,
): Promise<RecordResult> {
  const { metrics } = deps;
  // Every line about this record, including those from the pipeline below, names it; lines logged
  // after it (the next record, the handler) do not.
  const log = withFields(deps.log, { bucket: event.bucket, key: event.key });
  const recordDeps: VariantDeps = { ...deps, log };
  const ids = { eventName: event.eventName, sequencer: event.sequencer, versionId: event.versionId };
  if (event.bucket !== bucket) {
    log.warn('ignored record for another bucket', ids);
    return { status: 'skipped', key: event.key, detail: 'other-bucket' };
  }
  const place = classifyKey(event.key, settings.layout);
  if (place.kind !== 'original') {
    // Derived keys are our own output (no recursion); folders and foreign prefixes are not originals.
    log.debug('ignored key', { ...ids, keyClass: place.kind });
    return { status: 'skipped', key: event.key, detail: `not-an-original:${place.kind}` };
  }
  if (event.action === 'created' && event.size === 0) {
    log.info('ignored empty object', ids);
    metrics.count(names.rejected, 1, { reason: 'empty' });
    return { status: 'skipped', key: event.key, detail: 'empty' };
  }

  const started = Date.now();
  try {
    if (event.action === 'removed') {
      const outcome = await removeVariants(event.key, place.relative, settings, recordDeps);
      const detail = outcome.kind === 'removed' ? `deleted ${outcome.deleted}` : outcome.reason;
      log.info('variants removed', { ...ids, outcome: outcome.kind, detail });
      if (outcome.kind === 'removed') {
        metrics.count(names.deleted, outcome.deleted);
        return { status: 'removed', key: event.key, detail };
      }
      // The original exists after a removal: a late event of a re-upload (its variants are up to date),
      // or a version restored by deleting its delete marker, which S3 reports as ObjectRemoved:Delete
      // and never as ObjectCreated. Generating is idempotent, so the variants come back either way.
    }
    const result = await generate(event, place.relative, ids, settings, recordDeps, started);
    // What a late removal of a re-uploaded original finds.
    if (event.action === 'removed' && result.status === 'skipped' && result.detail === 'up-to-date')
      return { ...result, detail: 'original-exists' };
    return result;
  } catch (error) {
    if (error instanceof ImageRejectedError) {
      log.warn('original rejected', { ...ids, reason: error.reason, detail: error.message });
      metrics.count(names.rejected, 1, { reason: error.reason });
      return { status: 'rejected', key: event.key, reason: error.reason, detail: error.message };
    }
    log.error('record failed; it will be retried', {
      ...ids,
      error: messageOf(error),
    });
    metrics.count(names.failed);
    return { status: 'failed', key: event.key, error };
  }
}

/** Makes the variants of an existing original (or finds them up to date); throws what the pipeline throws. */
async function generate(
  event: ObjectEvent,
  relative: string,
  ids: Record<string, string | undefined>,
  settings: VariantSettings,
  deps: VariantDeps,
  started: number,
): Promise<RecordResult> {
  const { log, metrics } = deps;
  const outcome = await createVariants(event.key, relative, event.sequencer, settings, deps);
  const durationMs = Date.now() - started;
  if (outcome.kind === 'skipped') {
    log.info('variants not generated', { ...ids, reason: outcome.reason });
    return { status: 'skipped', key: event.key, detail: outcome.reason };
  }
  log.info('variants generated', {
    ...ids,
    variants: outcome.variants,
    bytes: outcome.bytes,
    sourceBytes: outcome.sourceBytes,
    durationMs,
  });
  metrics.count(names.generated, outcome.variants);
  metrics.bytes(names.bytes, outcome.bytes);
  metrics.bytes(names.originalBytes, outcome.sourceBytes);
  metrics.milliseconds(names.generationTime, durationMs);
  return {
    status: 'generated',
    key: event.key,
    detail: `${outcome.variants} variants, ${outcome.bytes} bytes`,
  };
}
