import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadImageServeConfig } from '../../../lib/config/imageServeConfig.ts';
import { InvalidEventError } from '../../../lib/images/errors.ts';
import { createImageServeHandler } from '../../../lib/images/imageServeHandler.ts';
import { parseImageUrl } from '../../../lib/images/imageUrl.ts';
import type { CachedVariant, ServedObjectStore } from '../../../lib/images/servedObjectStore.ts';
import { signatureFor } from '../../../lib/images/urlSigning.ts';
import type { PutRequest } from '../../../lib/images/variantStore.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { capturedTelemetry, lambdaContext } from '../observability/capture.ts';

const names = metricNames.imageServe;
const service = 'm2-eks-pipeline';
const signingKey = 'k1-0123456789abcdef0123456789abcdef';
const { settings } = loadImageServeConfig({ MEDIA_BUCKET: 'shop-media' });
/** Signing on with one key, as the Secrets Manager source gives it (its own tests run against moto). */
const signingKeys = { signingKeys: async () => [signingKey] };
const path = '/catalog/product/m/b/mb01.jpg';
const query = 'width=64&height=48&fit=cover';
const goodSignature = signatureFor(signingKey, parseImageUrl(path, query, settings.rules).signedMessage);
const badSignature = 'A'.repeat(goodSignature.length);
const context = lambdaContext('imageServe', 1024, 10_000);

/** Originals and variants in memory, keyed as in the bucket; `outage` makes every read fail like S3 throttling. */
class MemoryServedStore implements ServedObjectStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string; etag: string }>();
  outage = false;

  async getVariant(key: string, ifNoneMatch: string | undefined): Promise<CachedVariant> {
    if (this.outage) throw new Error('SlowDown: please reduce your request rate');
    const object = this.objects.get(key);
    if (object === undefined) return { kind: 'missing' };
    if (ifNoneMatch === object.etag) return { kind: 'not-modified', etag: object.etag };
    return { kind: 'found', ...object };
  }
  async getOriginal(key: string): Promise<{ etag: string; body: Buffer } | undefined> {
    return this.objects.get(key);
  }
  async putVariant(request: PutRequest): Promise<string> {
    const etag = `"${this.objects.size}"`;
    this.objects.set(request.key, {
      body: Buffer.from(request.body),
      contentType: request.contentType,
      etag,
    });
    return etag;
  }
}

const request = (signature: string, headers: Record<string, string> = {}) => ({
  rawPath: path,
  rawQueryString: `${query}&s=${signature}`,
  headers: { accept: 'image/webp,*/*', ...headers },
  requestContext: { http: { method: 'GET' } },
});

async function newShop(options: { logEvents?: boolean } = {}) {
  const store = new MemoryServedStore();
  const original = await sharp({ create: { width: 128, height: 96, channels: 3, background: '#36c' } })
    .jpeg()
    .toBuffer();
  store.objects.set('catalog/product/m/b/mb01.jpg', {
    body: original,
    contentType: 'image/jpeg',
    etag: '"o1"',
  });
  const { out, telemetry } = capturedTelemetry(options);
  return { out, store, handler: createImageServeHandler({ settings, store, telemetry, signingKeys }) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the imageServe handler', () => {
  it('renders a missing variant once, stores it, and answers with it base64-encoded', async () => {
    // Prepare
    const { store, handler } = await newShop();

    // Act
    const first = await handler(request(goodSignature), context);
    const second = await handler(request(goodSignature), context);

    // Assess
    expect([first.statusCode, first.isBase64Encoded, first.headers?.['content-type']]).toEqual([
      200,
      true,
      'image/webp',
    ]);
    const meta = await sharp(Buffer.from(String(first.body), 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 64, 48]);
    expect(second.body).toBe(first.body);
    expect([...store.objects.keys()].filter((k) => k.startsWith('derived/'))).toHaveLength(1);
  });

  it('flushes the miss and its time, logging the path and key but not the signature', async () => {
    // Prepare
    const { out, handler } = await newShop({ logEvents: true });

    // Act
    await handler(request(goodSignature), context);

    // Assess
    expect(out.metrics().map((m) => [m.name, m.unit, m.dimensions])).toEqual([
      [names.miss, 'Count', { service }],
      [names.time, 'Milliseconds', { service }],
    ]);
    expect(out.logRecords()).toEqual([
      expect.objectContaining({ message: 'image served', path, key: 'catalog/product/m/b/mb01.jpg' }),
    ]);
    expect(out.lines.filter((line) => line.includes(goodSignature))).toEqual([]);
  });

  it('answers a 304 without a body when the client has the variant', async () => {
    // Prepare
    const { handler } = await newShop();
    const first = await handler(request(goodSignature), context);

    // Act
    const revalidated = await handler(
      request(goodSignature, { 'if-none-match': String(first.headers?.etag) }),
      context,
    );

    // Assess
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated).not.toHaveProperty('body');
  });

  it('refuses a bad signature with a plain-text 403, counted by status, the path named without the query', async () => {
    // Prepare
    const { out, handler } = await newShop({ logEvents: true });

    // Act
    const response = await handler(request(badSignature), context);

    // Assess
    expect([response.statusCode, response.isBase64Encoded, typeof response.body]).toEqual([
      403,
      false,
      'string',
    ]);
    expect(out.metrics()).toEqual([
      expect.objectContaining({
        name: names.refused,
        unit: 'Count',
        value: 1,
        dimensions: { status: '403', service },
      }),
    ]);
    expect(out.logRecords().filter((r) => r.level !== 'DEBUG')).toEqual([
      expect.objectContaining({ message: 'image request refused', path, reason: 'bad-signature' }),
    ]);
    expect(out.lines.filter((line) => line.includes(badSignature))).toEqual([]);
  });

  it.each([
    [
      'an S3 notification',
      JSON.parse(readFileSync(new URL('../../../events/s3-object-created.json', import.meta.url), 'utf8')),
    ],
    ['an event without a method', { rawPath: path, requestContext: { http: {} } }],
    ['no event at all', undefined],
  ])('fails the invocation for %s, naming it not a function URL event', async (_, event) => {
    // Prepare
    const { store, handler } = await newShop();

    // Act
    const invocation = handler(event, context);

    // Assess
    await expect(invocation).rejects.toThrow(InvalidEventError);
    await expect(invocation).rejects.toThrow(/^not a function URL event: /);
    expect([...store.objects.keys()]).toEqual(['catalog/product/m/b/mb01.jpg']);
  });

  it('answers a 500 when the store fails, the failure counted and logged with the key', async () => {
    // Prepare
    const { out, store, handler } = await newShop();
    store.outage = true;

    // Act
    const response = await handler(request(goodSignature), context);

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.headers?.['cache-control']).toBe('no-store');
    expect(out.metrics()).toEqual([expect.objectContaining({ name: names.failed, unit: 'Count', value: 1 })]);
    expect(out.logRecords()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'image request failed',
        key: 'catalog/product/m/b/mb01.jpg',
        error: expect.stringContaining('SlowDown'),
      }),
    ]);
  });
});
