import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';
import { InvalidEventError } from '../../../lib/images/errors.ts';
import { createImageVariantsHandler } from '../../../lib/images/imageVariantsHandler.ts';
import { VariantBatchError } from '../../../lib/images/processObjectEvents.ts';
import type { PutRequest, StoredObject, VariantStore } from '../../../lib/images/variantStore.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { capturedTelemetry, lambdaContext } from '../observability/capture.ts';

const bucket = 'shop-media';
const names = metricNames.imageVariants;
const service = 'm2-eks-pipeline';
const context = lambdaContext('imageVariants', 1536, 60_000);
// One preset in one format keeps the sharp work of these tests to a single small encode per original.
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

const record = (eventName: string, key: string, size?: number) => ({
  eventSource: 'aws:s3',
  eventName,
  s3: { bucket: { name: bucket }, object: { key, size, sequencer: '0065656E4A5B5A0C25' } },
});
const created = (key: string, size: number) => record('ObjectCreated:Put', key, size);
const removed = (key: string) => record('ObjectRemoved:Delete', key);

const photo = (background: string) =>
  sharp({ create: { width: 64, height: 48, channels: 3, background } })
    .jpeg()
    .toBuffer();

function newHandler(store: VariantStore, variantSettings = settings, options: { logEvents?: boolean } = {}) {
  const { out, telemetry } = capturedTelemetry(options);
  return {
    out,
    handler: createImageVariantsHandler({ bucket, settings: variantSettings, store, telemetry }),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the imageVariants handler', () => {
  it('writes the variants of a new original, deletes them when it is removed, and reports each record', async () => {
    // Prepare
    const store = new MemoryStore();
    const original = await photo('#c33');
    store.objects.set('catalog/product/p/photo.jpg', original);
    const { handler } = newHandler(store);

    // Act
    const generated = await handler(
      { Records: [created('catalog/product/p/photo.jpg', original.length)] },
      context,
    );
    const derived = [...store.objects.keys()].filter((k) => k.startsWith('derived/'));
    store.objects.delete('catalog/product/p/photo.jpg');
    const deleted = await handler({ Records: [removed('catalog/product/p/photo.jpg')] }, context);

    // Assess
    expect(generated).toEqual([
      {
        key: 'catalog/product/p/photo.jpg',
        status: 'generated',
        detail: expect.stringMatching(/^1 variants, \d+ bytes$/),
      },
    ]);
    // One variant and its manifest.
    expect(derived).toHaveLength(2);
    expect(deleted).toEqual([{ key: 'catalog/product/p/photo.jpg', status: 'removed', detail: 'deleted 2' }]);
    expect([...store.objects.keys()]).toEqual([]);
  });

  it('flushes generated, bytes, original bytes and time, and names each record on its own lines only', async () => {
    // Prepare
    const store = new MemoryStore();
    const original = await photo('#3c3');
    store.objects.set('catalog/product/p/photo.jpg', original);
    const { out, handler } = newHandler(store);

    // Act
    await handler({ Records: [created('catalog/product/p/photo.jpg', original.length)] }, context);

    // Assess
    const one = (name: string) => out.metrics().filter((m) => m.name === name);
    expect(one(names.generated)).toEqual([expect.objectContaining({ unit: 'Count', value: 1 })]);
    expect(one(names.bytes)).toEqual([expect.objectContaining({ unit: 'Bytes', value: expect.any(Number) })]);
    expect(one(names.originalBytes)).toEqual([
      expect.objectContaining({ unit: 'Bytes', value: original.length, dimensions: { service } }),
    ]);
    expect(one(names.generationTime)).toEqual([expect.objectContaining({ unit: 'Milliseconds' })]);
    expect(out.logRecords().map((r) => [r.message, r.bucket, r.key, r.function_request_id])).toEqual([
      ['variants generated', bucket, 'catalog/product/p/photo.jpg', context.awsRequestId],
    ]);
  });

  it.each([
    ['an event without records', { hello: 'world' }],
    ['an empty batch', { Records: [] }],
    ['no event at all', null],
  ])('fails the invocation for %s, naming it not an S3 notification', async (_, event) => {
    // Prepare
    const { handler } = newHandler(new MemoryStore());

    // Act
    const invocation = handler(event, context);

    // Assess
    await expect(invocation).rejects.toThrow(InvalidEventError);
    await expect(invocation).rejects.toThrow(/^not an S3 notification event: /);
  });

  it('rejects a bad image and a malformed record on their own, counted by reason, and processes their neighbour', async () => {
    // Prepare
    const store = new MemoryStore();
    const original = await photo('#33c');
    const garbage = Buffer.from('this is not an image at all, just text');
    store.objects.set('catalog/product/p/photo.jpg', original);
    store.objects.set('catalog/product/g/garbage.jpg', garbage);
    const { out, handler } = newHandler(store);

    // Act
    const reports = await handler(
      {
        Records: [
          created('catalog/product/g/garbage.jpg', garbage.length),
          { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put' },
          created('catalog/product/p/photo.jpg', original.length),
        ],
      },
      context,
    );

    // Assess
    expect(reports.map((r) => [r.key, r.status])).toEqual([
      ['catalog/product/g/garbage.jpg', 'rejected'],
      ['#1', 'rejected'],
      ['catalog/product/p/photo.jpg', 'generated'],
    ]);
    expect(
      out
        .metrics()
        .filter((m) => m.name === names.rejected)
        .map((m) => [m.unit, m.value, m.dimensions]),
    ).toEqual([
      ['Count', 1, { reason: 'unsupported-format', service }],
      ['Count', 1, { reason: 'malformed-record', service }],
    ]);
    const lines = out.logRecords();
    expect(
      lines.filter((r) => r.key === 'catalog/product/g/garbage.jpg').map((r) => [r.message, r.reason]),
    ).toEqual([['original rejected', 'unsupported-format']]);
    const malformed = lines.find((r) => r.message === 'malformed S3 record');
    expect(malformed).toEqual(expect.objectContaining({ recordIndex: 1 }));
    expect(malformed).not.toHaveProperty('key');
  });

  it('fails the invocation naming the record when the store fails, with the failure counted and flushed', async () => {
    // Prepare: the first variant is written, the second is not, and cleaning up the first fails too.
    const store = new MemoryStore();
    const original = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#3c3' } })
      .png()
      .toBuffer();
    store.objects.set('catalog/product/s/slow.png', original);
    store.putsBeforeOutage = 1;
    const { out, handler } = newHandler(store, {
      ...settings,
      formats: ['jpeg', 'webp'],
      uploadConcurrency: 1,
    });

    // Act
    const invocation = handler(
      { Records: [created('catalog/product/s/slow.png', original.length)] },
      context,
    );

    // Assess
    await expect(invocation).rejects.toThrow(VariantBatchError);
    await expect(invocation).rejects.toMatchObject({ failedKeys: ['catalog/product/s/slow.png'] });
    expect(out.metrics()).toEqual([expect.objectContaining({ name: names.failed, unit: 'Count', value: 1 })]);
    expect(out.logRecords().map((r) => [r.level, r.message, r.bucket, r.key])).toEqual([
      ['WARN', 'could not clean up partially written variants', bucket, 'catalog/product/s/slow.png'],
      ['ERROR', 'record failed; it will be retried', bucket, 'catalog/product/s/slow.png'],
    ]);
  });

  it('never logs the event, even with a logger set to log every event', async () => {
    // Prepare: the sample notification, whose uploader's principal no log line has a reason to quote.
    const event = JSON.parse(
      readFileSync(new URL('../../../events/s3-object-removed.json', import.meta.url), 'utf8'),
    );
    const principal: string = event.Records[0].userIdentity.principalId;
    const { out, handler } = newHandler(new MemoryStore(), settings, { logEvents: true });

    // Act
    await handler(event, context);

    // Assess
    expect(out.logRecords().length).toBeGreaterThan(0);
    expect(out.lines.filter((line) => line.includes(principal))).toEqual([]);
  });
});
