import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadImageServeConfig } from '../../../lib/config/imageServeConfig.ts';
import { createImageServeHandler } from '../../../lib/images/imageServeHandler.ts';
import { buildCacheTable } from '../../../lib/images/magento/cacheTable.ts';
import { lumaTheme } from '../../../lib/images/magento/lumaImages.ts';
import { magentoImagesOf } from '../../../lib/images/magentoImages.ts';
import type { CachedVariant, ServedObjectStore } from '../../../lib/images/servedObjectStore.ts';
import type { PutRequest } from '../../../lib/images/variantStore.ts';
import { capturedTelemetry, lambdaContext } from '../observability/capture.ts';

const context = lambdaContext('imageServe', 1024, 10_000);
const cryptKey = '0123456789abcdef0123456789abcdef';
const grid = [...buildCacheTable({ theme: lumaTheme, algorithm: 'md5' }).entries].find(
  ([, image]) => image.width === 240 && image.height === 300,
);
const gridHash = grid?.[0] ?? '';

/** Originals and variants in memory, keyed as in the bucket. */
class MemoryStore implements ServedObjectStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string; etag: string }>();
  async getVariant(key: string): Promise<CachedVariant> {
    const object = this.objects.get(key);
    return object === undefined ? { kind: 'missing' } : { kind: 'found', ...object };
  }
  async getOriginal(key: string) {
    return this.objects.get(key);
  }
  async putVariant(request: PutRequest): Promise<string> {
    this.objects.set(request.key, {
      body: Buffer.from(request.body),
      contentType: request.contentType,
      etag: '"v"',
    });
    return '"v"';
  }
}

async function shopWith(magentoImages: ReturnType<typeof magentoImagesOf> | undefined) {
  const store = new MemoryStore();
  const original = await sharp({ create: { width: 1000, height: 500, channels: 3, background: '#36c' } })
    .jpeg()
    .toBuffer();
  store.objects.set('catalog/product/m/b/mb01.jpg', {
    body: original,
    contentType: 'image/jpeg',
    etag: '"o"',
  });
  const { settings } = loadImageServeConfig({ MEDIA_BUCKET: 'shop-media' });
  const { telemetry } = capturedTelemetry();
  return { store, handler: createImageServeHandler({ settings, store, telemetry, magentoImages }) };
}

const get = (rawPath: string, rawQueryString = '') => ({
  rawPath,
  rawQueryString,
  headers: { accept: '*/*' },
  requestContext: { http: { method: 'GET' } },
});

describe('Magento hash URLs through the imageServe handler', () => {
  it("serves Luma's category grid hash as Magento renders it, stored as cache.<hash>.jpg", async () => {
    // Prepare
    const { store, handler } = await shopWith(
      magentoImagesOf({ theme: lumaTheme, algorithms: ['md5'], quality: 80 }),
    );

    // Act
    const response = await handler(get(`/media/catalog/product/cache/${gridHash}/m/b/mb01.jpg`), context);

    // Assess
    expect(response.statusCode).toBe(200);
    const meta = await sharp(Buffer.from(String(response.body), 'base64')).metadata();
    expect([meta.format, meta.width]).toEqual(['jpeg', 240]);
    expect(store.objects.has(`derived/catalog/product/m/b/mb01.jpg/cache.${gridHash}.jpg`)).toBe(true);
  });

  it.each([
    ['an unknown hash', 'f'.repeat(32), true],
    ['any hash without a table', gridHash, false],
  ])('answers %s with 404 and a short TTL', async (_label, hash, withTable) => {
    const { handler } = await shopWith(
      withTable ? magentoImagesOf({ theme: lumaTheme, algorithms: ['md5'], quality: 80 }) : undefined,
    );
    const response = await handler(get(`/media/catalog/product/cache/${hash}/m/b/mb01.jpg`), context);
    expect([response.statusCode, response.headers?.['cache-control']]).toEqual([404, 'public, max-age=60']);
  });

  it('reads the crypt key only for hash URLs, and builds the keyed table from it', async () => {
    // Prepare
    let reads = 0;
    const images = magentoImagesOf({
      theme: lumaTheme,
      algorithms: ['hmac-md5'],
      quality: 80,
      cryptKeys: {
        cryptKey: async () => {
          reads++;
          return cryptKey;
        },
      },
    });
    const keyed = [
      ...buildCacheTable({ theme: lumaTheme, algorithm: 'hmac-md5', cryptKeys: [cryptKey] }).entries,
    ];
    const { handler } = await shopWith(images);

    // Act
    const plain = await handler(get('/media/catalog/product/m/b/mb01.jpg', 'width=50'), context);
    const readsBefore = reads;
    const hashed = await handler(get(`/media/catalog/product/cache/${keyed[0]?.[0]}/m/b/mb01.jpg`), context);

    // Assess
    expect([plain.statusCode, readsBefore]).toEqual([200, 0]);
    expect([hashed.statusCode, reads]).toEqual([200, 1]);
  });

  it('refuses hmac-md5 without a crypt key source', () => {
    expect(() => magentoImagesOf({ theme: lumaTheme, algorithms: ['hmac-md5'], quality: 80 })).toThrow(
      TypeError,
    );
  });
});
