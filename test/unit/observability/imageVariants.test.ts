import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';
import { processObjectEvents } from '../../../lib/images/processObjectEvents.ts';
import { parseS3Records } from '../../../lib/images/s3Events.ts';
import type { PutRequest, StoredObject, VariantStore } from '../../../lib/images/variantStore.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { powertoolsLog, powertoolsMetricSink } from '../../../lib/observability/telemetry.ts';
import { captureOutput, powertools } from './capture.ts';

const bucket = 'shop-media';
const names = metricNames.imageVariants;
// One preset in one format keeps the sharp work of this test to a single small encode.
const { settings } = loadImageVariantsConfig({
  MEDIA_BUCKET: bucket,
  IMAGE_PRESETS: '[{"name":"thumb","width":16,"height":16,"fit":"inside"}]',
  IMAGE_FORMATS: 'jpeg',
});

/** An in-memory bucket; after `putsBeforeOutage` writes, writes and deletes fail like an S3 outage. */
class MemoryStore implements VariantStore {
  readonly objects = new Map<string, Buffer>();
  putsBeforeOutage = Number.POSITIVE_INFINITY;
  #puts = 0;

  async head(key: string): Promise<StoredObject | undefined> {
    const body = this.objects.get(key);
    return body === undefined ? undefined : { etag: `"${body.length}"`, size: body.length };
  }
  async get(key: string): Promise<(StoredObject & { body: Buffer }) | undefined> {
    const body = this.objects.get(key);
    return body === undefined ? undefined : { etag: `"${body.length}"`, size: body.length, body };
  }
  getOriginal(key: string): Promise<(StoredObject & { body: Buffer }) | undefined> {
    return this.get(key);
  }
  async put(request: PutRequest): Promise<void> {
    if (++this.#puts > this.putsBeforeOutage) throw new Error('SlowDown: please reduce your request rate');
    this.objects.set(request.key, Buffer.from(request.body));
  }
  async list(folder: string): Promise<string[]> {
    return [...this.objects.keys()].filter(
      (k) => k.startsWith(folder) && !k.slice(folder.length).includes('/'),
    );
  }
  async delete(keys: readonly string[]): Promise<void> {
    if (this.#puts > this.putsBeforeOutage) throw new Error('SlowDown: please reduce your request rate');
    for (const key of keys) this.objects.delete(key);
  }
}

const created = (key: string, size: number) => ({
  eventSource: 'aws:s3',
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: bucket }, object: { key, size, sequencer: '0065656E4A5B5A0C25' } },
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('imageVariants telemetry through Powertools', () => {
  it('emits generated, bytes, original bytes, time and rejections by reason, and names each record on its own lines only', async () => {
    // Prepare
    const out = captureOutput();
    const { logger, metrics } = powertools();
    const log = powertoolsLog(logger);
    const store = new MemoryStore();
    const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
      .jpeg()
      .toBuffer();
    const garbage = Buffer.from('this is not an image at all, just text');
    store.objects.set('catalog/product/p/photo.jpg', photo);
    store.objects.set('catalog/product/g/garbage.jpg', garbage);
    const records = parseS3Records([
      created('catalog/product/p/photo.jpg', photo.length),
      created('catalog/product/g/garbage.jpg', garbage.length),
      { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put' },
    ]);

    // Act
    await processObjectEvents(records, bucket, settings, {
      store,
      log,
      metrics: powertoolsMetricSink(metrics),
    });
    log.info('batch done');
    metrics.publishStoredMetrics();

    // Assess
    const emitted = out.metrics();
    const service = 'm2-eks-pipeline';
    const one = (name: string) => emitted.filter((m) => m.name === name);
    expect(one(names.generated)).toEqual([expect.objectContaining({ unit: 'Count', value: 1 })]);
    expect(one(names.bytes)).toEqual([expect.objectContaining({ unit: 'Bytes', value: expect.any(Number) })]);
    expect(one(names.originalBytes)).toEqual([
      expect.objectContaining({ unit: 'Bytes', value: photo.length, dimensions: { service } }),
    ]);
    expect(one(names.generationTime)).toEqual([expect.objectContaining({ unit: 'Milliseconds' })]);
    expect(one(names.rejected).map((m) => [m.unit, m.value, m.dimensions])).toEqual([
      ['Count', 1, { reason: 'unsupported-format', service }],
      ['Count', 1, { reason: 'malformed-record', service }],
    ]);

    const lines = out.logRecords();
    const about = (key: string) => lines.filter((r) => r.key === key);
    expect(about('catalog/product/p/photo.jpg').map((r) => [r.message, r.bucket])).toEqual([
      ['variants generated', bucket],
    ]);
    expect(about('catalog/product/g/garbage.jpg').map((r) => [r.message, r.reason, r.bucket])).toEqual([
      ['original rejected', 'unsupported-format', bucket],
    ]);
    expect(lines.find((r) => r.message === 'malformed S3 record')).toEqual(
      expect.objectContaining({ recordIndex: 2 }),
    );
    const after = lines.find((r) => r.message === 'batch done');
    expect(after).toBeDefined();
    expect(after).not.toHaveProperty('key');
    expect(after).not.toHaveProperty('bucket');
  });

  it('puts the record’s bucket and key on lines logged deep in the pipeline, and counts the failure', async () => {
    // Prepare
    const out = captureOutput();
    const { logger, metrics } = powertools();
    const store = new MemoryStore();
    const photo = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#3c3' } })
      .png()
      .toBuffer();
    store.objects.set('catalog/product/s/slow.png', photo);
    // The first variant is written, the second is not, and cleaning up the first fails too.
    store.putsBeforeOutage = 1;
    const twoFormats = { ...settings, formats: ['jpeg', 'webp'] as const, uploadConcurrency: 1 };

    // Act
    const summary = await processObjectEvents(
      parseS3Records([created('catalog/product/s/slow.png', photo.length)]),
      bucket,
      twoFormats,
      { store, log: powertoolsLog(logger), metrics: powertoolsMetricSink(metrics) },
    );
    metrics.publishStoredMetrics();

    // Assess
    expect(summary.failed).toHaveLength(1);
    expect(out.metrics()).toEqual([expect.objectContaining({ name: names.failed, unit: 'Count', value: 1 })]);
    expect(out.logRecords().map((r) => [r.level, r.message, r.bucket, r.key])).toEqual([
      ['WARN', 'could not clean up partially written variants', bucket, 'catalog/product/s/slow.png'],
      ['ERROR', 'record failed; it will be retried', bucket, 'catalog/product/s/slow.png'],
    ]);
  });
});
