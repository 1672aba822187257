import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientStorageError } from '../../../lib/images/errors.ts';
import type { ImageLimits } from '../../../lib/images/limits.ts';
import { processObjectEvents, VariantBatchError } from '../../../lib/images/processObjectEvents.ts';
import { parseS3Records } from '../../../lib/images/s3Events.ts';
import type { VariantSettings } from '../../../lib/images/variantPipeline.ts';
import { type PutRequest, S3VariantStore, type VariantStore } from '../../../lib/images/variantStore.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { smallPhoto } from '../../helpers/images.ts';
import {
  embeddedS3,
  emptyAndDeleteBucket,
  freshBucket,
  listKeys,
  putObject,
  s3Event,
} from '../../helpers/s3.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const settings: VariantSettings = {
  layout: { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' },
  presets: [
    { name: 'small', width: 100, height: 100, fit: 'frame' },
    { name: 'large', width: 300, height: 300, fit: 'inside' },
  ],
  formats: ['jpeg', 'webp'],
  limits: { maxPixels: 50_000_000, maxFrames: 10, maxSourceBytes: 10_000_000 },
  encode: { jpegQuality: 80, webpQuality: 80, avifQuality: 50, avifEffort: 0 },
  uploadConcurrency: 2,
};

/** The real S3 store, with PUTs of chosen keys failing as S3 does under a 503 SlowDown. */
class FlakyStore implements VariantStore {
  constructor(
    private readonly inner: S3VariantStore,
    private readonly failPut: (key: string) => boolean,
  ) {}
  head = (key: string) => this.inner.head(key);
  get = (key: string) => this.inner.get(key);
  getOriginal = (key: string, limits: ImageLimits) => this.inner.getOriginal(key, limits);
  list = (folder: string) => this.inner.list(folder);
  delete = (keys: readonly string[]) => this.inner.delete(keys);
  async put(request: PutRequest): Promise<void> {
    if (this.failPut(request.key)) {
      throw new TransientStorageError(`PutObject ${request.key} failed (HTTP 503): SlowDown`, {
        bucket: this.inner.bucket,
        key: request.key,
      });
    }
    await this.inner.put(request);
  }
}

let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  embeddedEnv();
  s3 = embeddedS3();
  bucket = await freshBucket(s3);
});
afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

describe('transient storage failures', () => {
  it('fails only the affected record, cleans up its partial variants, and succeeds on retry', async () => {
    const photo = await smallPhoto();
    await putObject(s3, bucket, 'catalog/product/t/ok.jpg', photo);
    await putObject(s3, bucket, 'catalog/product/t/flaky.jpg', photo);
    const records = parseS3Records(
      s3Event(bucket, [
        { action: 'created', key: 'catalog/product/t/flaky.jpg', size: photo.length },
        { action: 'created', key: 'catalog/product/t/ok.jpg', size: photo.length },
      ]).Records,
    );
    const telemetry = recordingTelemetry();
    const flaky = new FlakyStore(new S3VariantStore(s3, bucket), (key) =>
      key.endsWith('flaky.jpg/large.webp'),
    );

    const first = await processObjectEvents(records, bucket, settings, {
      store: flaky,
      log: telemetry.log,
      metrics: telemetry.metrics,
    });

    expect(first.results.map((r) => r.status)).toEqual(['failed', 'generated']);
    expect(await listKeys(s3, bucket, 'derived/catalog/product/t/flaky.jpg/')).toEqual([]);
    expect(await listKeys(s3, bucket, 'derived/catalog/product/t/ok.jpg/')).toHaveLength(5);
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ bucket, key: 'catalog/product/t/flaky.jpg' }),
      }),
    );
    expect(new VariantBatchError(first.failed).failedKeys).toEqual(['catalog/product/t/flaky.jpg']);

    // Lambda retries the whole event: the done record is skipped, the failed one completes.
    const retry = await processObjectEvents(records, bucket, settings, {
      store: new S3VariantStore(s3, bucket),
      log: telemetry.log,
      metrics: telemetry.metrics,
    });
    expect(retry.results.map((r) => (r.status === 'failed' ? 'failed' : r.detail))).toEqual([
      expect.stringMatching(/^4 variants, \d+ bytes$/),
      'up-to-date',
    ]);
    expect(await listKeys(s3, bucket, 'derived/catalog/product/t/flaky.jpg/')).toHaveLength(5);
  });
});

describe('the imageVariants handler', () => {
  const context = {
    functionName: 'imageVariants',
    awsRequestId: 'test-request',
    getRemainingTimeInMillis: () => 60_000,
  } as Context;

  it('generates variants for an S3 event and reports each record', async () => {
    process.env.MEDIA_BUCKET = bucket;
    const { handler } = await import('../../../functions/imageVariants.ts');
    const photo = await smallPhoto();
    await putObject(s3, bucket, 'catalog/product/h/shoe one.jpg', photo);
    const result = await handler(
      s3Event(bucket, [{ action: 'created', key: 'catalog/product/h/shoe one.jpg', size: photo.length }]),
      context,
    );
    expect(result).toEqual([
      {
        key: 'catalog/product/h/shoe one.jpg',
        status: 'generated',
        detail: expect.stringMatching(/^21 variants/),
      },
    ]);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'catalog/product/h/shoe one.jpg' }));
    const removed = await handler(
      s3Event(bucket, [{ action: 'removed', key: 'catalog/product/h/shoe one.jpg' }]),
      context,
    );
    expect(removed).toEqual([
      { key: 'catalog/product/h/shoe one.jpg', status: 'removed', detail: 'deleted 22' },
    ]);
  });

  it('rejects an event that is not an S3 notification with a clear error', async () => {
    const { handler } = await import('../../../functions/imageVariants.ts');
    await expect(handler({ hello: 'world' } as never, context)).rejects.toThrow(
      'not an S3 notification event',
    );
  });
});
