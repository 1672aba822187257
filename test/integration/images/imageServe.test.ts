import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransientStorageError } from '../../../lib/images/errors.ts';
import { placement } from '../../../lib/images/geometry.ts';
import { type ImageHttpRequest, type ServeSettings, serveImage } from '../../../lib/images/imageServer.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';
import { processObjectEvents } from '../../../lib/images/processObjectEvents.ts';
import { parseS3Records } from '../../../lib/images/s3Events.ts';
import { S3ServedObjectStore, type ServedObjectStore } from '../../../lib/images/servedObjectStore.ts';
import { signatureFor } from '../../../lib/images/urlSigning.ts';
import { S3VariantStore } from '../../../lib/images/variantStore.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import {
  animatedGif,
  decompressionBombPng,
  hostileSvg,
  orientedCard,
  photo,
  pixelAt,
  smallPhoto,
  transparentPng,
} from '../../helpers/images.ts';
import {
  embeddedS3,
  emptyAndDeleteBucket,
  freshBucket,
  getObject,
  headObject,
  listKeys,
  putObject,
  s3Event,
} from '../../helpers/s3.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const layout = { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' };
const settings: ServeSettings = {
  rules: { layout, presets: lumaPresets, maxDimension: 2560 },
  limits: { maxPixels: 50_000_000, maxFrames: 10, maxSourceBytes: 10 * 1024 * 1024 },
  encode: { jpegQuality: 80, webpQuality: 80, avifQuality: 50, avifEffort: 2 },
  avifMaxPixels: 250_000,
  signingKeys: [],
  maxInlineBytes: 4_000_000,
  errorMaxAge: 60,
};
const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

let s3: S3Client;
let bucket: string;
let telemetry: ReturnType<typeof recordingTelemetry>;

beforeAll(async () => {
  embeddedEnv();
  s3 = embeddedS3();
  bucket = await freshBucket(s3);
  await putObject(s3, bucket, 'catalog/product/g/a/garden.jpg', photo('Garden.jpg'));
});
afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});
beforeEach(() => {
  telemetry = recordingTelemetry();
});

function serve(
  rawPath: string,
  rawQuery: string,
  headers: Partial<ImageHttpRequest> = {},
  options: { settings?: Partial<ServeSettings>; store?: ServedObjectStore } = {},
) {
  return serveImage(
    { method: 'GET', rawPath, rawQuery, accept: chrome, ...headers },
    { ...settings, ...options.settings },
    {
      store: options.store ?? new S3ServedObjectStore(s3, bucket),
      log: telemetry.log,
      metrics: telemetry.metrics,
    },
  );
}

const bodyOf = (response: { body?: Buffer | string | undefined }): Buffer => {
  if (!Buffer.isBuffer(response.body)) throw new Error('expected an image body');
  return response.body;
};

describe('imageServe against the embedded S3', () => {
  const garden = '/media/catalog/product/g/a/garden.jpg';
  const pwa = 'auto=webp&format=pjpg&width=640&height=800&fit=crop';

  it('generates a miss once, stores it under the canonical key and serves it with cache headers', async () => {
    const response = await serve(garden, pwa);

    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'image/webp',
      'cache-control': 'public, max-age=31536000, immutable',
      vary: 'Accept',
    });
    expect(response.headers['server-timing']).toMatch(
      /^cache;dur=[\d.]+, source;dur=[\d.]+, render;dur=[\d.]+, store;dur=[\d.]+$/,
    );
    const meta = await sharp(bodyOf(response)).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif, meta.icc]).toEqual([
      'webp',
      640,
      800,
      undefined,
      undefined,
    ]);
    // The same picture as sharp's own cover crop, within WebP's compression error.
    const reference = await sharp(photo('Garden.jpg'))
      .resize(640, 800, { fit: 'cover' })
      .removeAlpha()
      .raw()
      .toBuffer();
    const ours = await sharp(bodyOf(response)).removeAlpha().raw().toBuffer();
    expect(ours.length).toBe(reference.length);
    let difference = 0;
    for (let i = 0; i < ours.length; i++) difference += Math.abs((ours[i] ?? 0) - (reference[i] ?? 0));
    expect(difference / ours.length).toBeLessThan(4);

    const key = 'derived/catalog/product/g/a/garden.jpg/w640.h800.cover.webp';
    const stored = await getObject(s3, bucket, key);
    expect(stored.bytes.equals(bodyOf(response))).toBe(true);
    expect(response.headers.etag).toBe(stored.ETag);
    expect(stored.CacheControl).toBe('public, max-age=31536000, immutable');
    expect(stored.Metadata?.['source-etag']).toBe(
      (await headObject(s3, bucket, 'catalog/product/g/a/garden.jpg')).ETag,
    );
    expect(telemetry.counts.get('ImageServeMiss')).toBe(1);
  });

  it('serves the next equivalent request from S3 without resizing', async () => {
    const first = await serve(garden, pwa);
    const reordered = await serve(
      '/catalog/product/g/a/garden.jpg',
      'fit=crop&height=800&width=640&format=jpg&auto=webp',
      {
        accept: 'image/webp,*/*',
      },
    );

    expect(reordered.status).toBe(200);
    expect(reordered.headers['server-timing']).toMatch(/^cache;dur=[\d.]+$/);
    expect(reordered.headers.etag).toBe(first.headers.etag);
    expect(bodyOf(reordered).equals(bodyOf(first))).toBe(true);
    expect(telemetry.lines.filter((l) => l.message === 'image served').map((l) => l.fields.cache)).toEqual([
      'hit',
      'hit',
    ]);
  });

  it.each([
    ['the ETag', (etag: string) => etag],
    ['the weak ETag', (etag: string) => `W/${etag}`],
    ['a list with the ETag', (etag: string) => `"other", ${etag}`],
    ['*', () => '*'],
  ])('answers If-None-Match with %s by 304 and no body', async (_label, header) => {
    const etag = (await serve(garden, pwa)).headers.etag ?? '';
    const response = await serve(garden, pwa, { ifNoneMatch: header(etag) });
    expect(response.status).toBe(304);
    expect(response.body).toBeUndefined();
    expect(response.headers).toMatchObject({
      etag,
      vary: 'Accept',
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });

  it('answers a stale If-None-Match with the image', async () => {
    const response = await serve(garden, pwa, { ifNoneMatch: '"0123456789abcdef0123456789abcdef"' });
    expect(response.status).toBe(200);
  });

  it.each([
    ['Chrome, small box', 'width=200&height=200&fit=crop', chrome, 'image/avif', 'heif'],
    ['Chrome, box over the AVIF budget', 'width=1200&height=800', chrome, 'image/webp', 'webp'],
    ['no modern format', 'width=200', '*/*', 'image/jpeg', 'jpeg'],
    ['explicit PNG', 'format=png&width=120', chrome, 'image/png', 'png'],
  ])('negotiates the format: %s', async (_label, query, accept, contentType, decoded) => {
    const response = await serve(garden, query, { accept });
    expect(response.headers['content-type']).toBe(contentType);
    expect((await sharp(bodyOf(response)).metadata()).format).toBe(decoded);
  });

  it('serves the AVIF imageVariants pre-generated for a preset, byte for byte', async () => {
    await processObjectEvents(
      parseS3Records(s3Event(bucket, [{ action: 'created', key: 'catalog/product/g/a/garden.jpg' }]).Records),
      bucket,
      {
        layout,
        presets: lumaPresets,
        formats: ['jpeg', 'webp', 'avif'],
        limits: settings.limits,
        encode: settings.encode,
        uploadConcurrency: 4,
      },
      { store: new S3VariantStore(s3, bucket), log: telemetry.log, metrics: telemetry.metrics },
    );
    const response = await serve(garden, 'preset=category');
    expect(response.headers['content-type']).toBe('image/avif');
    expect(response.headers['server-timing']).toMatch(/^cache;dur=[\d.]+$/);
    const pregenerated = await getObject(s3, bucket, 'derived/catalog/product/g/a/garden.jpg/category.avif');
    expect(bodyOf(response).equals(pregenerated.bytes)).toBe(true);
  });

  it('leaves its variants to imageVariants: a changed original sweeps them, a removed one deletes them', async () => {
    const key = 'catalog/product/s/w/sweep.jpg';
    const folder = 'derived/catalog/product/s/w/sweep.jpg/';
    const variants = {
      layout,
      presets: lumaPresets.slice(0, 1),
      formats: ['jpeg' as const],
      limits: settings.limits,
      encode: settings.encode,
      uploadConcurrency: 2,
    };
    const deps = { store: new S3VariantStore(s3, bucket), log: telemetry.log, metrics: telemetry.metrics };
    const imageVariants = (action: 'created' | 'removed') =>
      processObjectEvents(parseS3Records(s3Event(bucket, [{ action, key }]).Records), bucket, variants, deps);
    await putObject(s3, bucket, key, await smallPhoto(300));
    await imageVariants('created');
    expect((await serve(`/${key}`, 'width=120', { accept: '*/*' })).status).toBe(200);
    expect(await listKeys(s3, bucket, folder)).toContain(`${folder}w120.inside.jpg`);

    await putObject(s3, bucket, key, await smallPhoto(320));
    await imageVariants('created');
    expect(await listKeys(s3, bucket, folder)).toEqual([`${folder}manifest.json`, `${folder}thumbnail.jpg`]);

    expect((await serve(`/${key}`, 'width=120', { accept: '*/*' })).status).toBe(200);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await imageVariants('removed');
    expect(await listKeys(s3, bucket, folder)).toEqual([]);
  });

  it('keeps transparency in PNG and WebP and letterboxes a PNG original by its extension', async () => {
    await putObject(s3, bucket, 'catalog/product/t/logo.png', await transparentPng());
    const png = await serve('/catalog/product/t/logo.png', 'width=150', { accept: '*/*' });
    expect(png.headers['content-type']).toBe('image/png');
    const meta = await sharp(bodyOf(png)).metadata();
    expect([meta.width, meta.height, meta.hasAlpha]).toEqual([150, 150, true]);
  });

  it('applies EXIF orientation before resizing', async () => {
    await putObject(s3, bucket, 'catalog/product/o/six.jpg', await orientedCard(6));
    const response = await serve('/catalog/product/o/six.jpg', 'width=150', { accept: '*/*' });
    const meta = await sharp(bodyOf(response)).metadata();
    expect([meta.width, meta.height]).toEqual([150, 200]);
    // Orientation 6 turns the stored top-left red corner into the top-right one.
    const [r, , b] = await pixelAt(bodyOf(response), 145, 5);
    expect(r).toBeGreaterThan(200);
    expect(b).toBeLessThan(60);
  });

  it('never upscales: a box larger than the original gives the original size', async () => {
    // Garden.jpg is 2560×1600: a 2000×2000 crop keeps the scale at 1 and crops the width only.
    const response = await serve(garden, 'width=2000&height=2000&fit=crop', { accept: '*/*' });
    const meta = await sharp(bodyOf(response)).metadata();
    expect([meta.width, meta.height]).toEqual([2000, 1600]);
  });

  it('takes the first frame of an animated GIF', async () => {
    await putObject(s3, bucket, 'catalog/product/a/anim.gif', await animatedGif(3));
    const response = await serve('/catalog/product/a/anim.gif', 'width=32', { accept: '*/*' });
    expect(response.status).toBe(200);
    const meta = await sharp(bodyOf(response)).metadata();
    expect([meta.format, meta.width, meta.pages]).toEqual(['jpeg', 32, undefined]);
  });
});

describe('imageServe: Fastly and Magento forms', () => {
  const lens = 'catalog/product/l/e/lens.jpg';
  const magentoHash = '5a2b8c1d9e0f3a4b5c6d7e8f9a0b1c2d';
  const magentoCache = {
    lookup: (hash: string) =>
      hash === magentoHash
        ? {
            background: [255, 0, 0] as const,
            quality: 80,
            keepTransparency: true,
            // A local stand-in for lib/images/magento's magentoPlacement: keep_frame 240×300 letterbox.
            place: (source: { width: number; height: number }) =>
              placement(source, { width: 240, height: 300 }, 'frame'),
          }
        : undefined,
  };

  beforeAll(async () => {
    await putObject(
      s3,
      bucket,
      lens,
      await sharp({ create: { width: 1000, height: 1250, channels: 3, background: '#3a6' } })
        .jpeg()
        .toBuffer(),
    );
  });

  it.each([
    ['width=135&height=170&fit=crop', 135, 170], // was a 500: a 1-px excess became extend(-1)
    ['width=2560&height=3200&fit=cover', 1000, 1250], // Venia's largest srcset entry: capped, never 413
    ['height=62.5&width=50', 50, 63],
    ['quality=80&fit=bounds&height=&width=', 1000, 1250],
    ['width=240&height=300&quality=80&bg-color=255,255,255&fit=bounds&canvas=240:300&dpr=2', 480, 600],
    ['width=240&height=300&canvas=240,300&quality=80&bg-color=255,255,255&fit=bounds', 240, 300],
    ['width=100&store=EN_US', 100, 125],
  ])('serves ?%s as %i×%i', async (query, width, height) => {
    const response = await serve(`/media/${lens}`, query, { accept: '*/*' });
    expect(response.status).toBe(200);
    const meta = await sharp(bodyOf(response)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, height]);
  });

  it('serves a Magento hash URL with its view.xml size and letterbox colour, under cache.<hash>', async () => {
    const url = `/media/catalog/product/cache/${magentoHash}/l/e/lens.jpg`;
    const response = await serve(url, 'store=default', { accept: '*/*' }, { settings: { magentoCache } });
    expect(response.status).toBe(200);
    const body = bodyOf(response);
    const meta = await sharp(body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 240, 300]);
    expect(await listKeys(s3, bucket, `derived/${lens}/`)).toContain(
      `derived/${lens}/cache.${magentoHash}.jpg`,
    );
  });

  it.each([
    ['width=120', 120, 150, 'w120.inside'],
    ['width=999', 240, 300, 'w999.inside'], // never larger than Magento's rendition
  ])(
    'applies ?%s on top of the hash rendition (%i×%i), under cache.<hash>.%s',
    async (query, width, height, id) => {
      const url = `/media/catalog/product/cache/${magentoHash}/l/e/lens.jpg`;
      const response = await serve(url, query, { accept: '*/*' }, { settings: { magentoCache } });
      expect(response.status).toBe(200);
      const meta = await sharp(bodyOf(response)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, height]);
      expect(await listKeys(s3, bucket, `derived/${lens}/`)).toContain(
        `derived/${lens}/cache.${magentoHash}.${id}.jpg`,
      );
    },
  );

  it('answers what the edge forwards in x-image-request, keyed as the edge keyed it', async () => {
    const response = await serve(`/derived/${lens}/w64.inside.webp`, '', {
      accept: 'image/webp',
      viewerRequest: { rawPath: `/media/${lens}`, rawQuery: 'width=64&quality=80' },
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/webp');
    // quality=80 is WebP's configured default: the same picture as no quality, one key.
    expect(await listKeys(s3, bucket, `derived/${lens}/`)).toContain(`derived/${lens}/w64.inside.webp`);
    expect(telemetry.lines).not.toContainEqual(expect.objectContaining({ message: 'edge key differs' }));
  });
});

describe('imageServe refusals', () => {
  const garden = '/catalog/product/g/a/garden.jpg';

  it.each([
    ['junk parameter value', garden, 'width=1e3', 400],
    ['unknown parameter', garden, 'width=10&crop=true', 400],
    ['path traversal', '/catalog/product/../../etc/passwd', '', 400],
    ['encoded slash', '/catalog/product/g%2Fa/garden.jpg', '', 400],
    ['another prefix of the bucket', '/derived/catalog/product/manifest.json', '', 400],
    ["a relative size (Fastly's fraction form, no storefront emits it)", garden, 'width=0.5', 400],
    ['an unknown Magento hash', `/media/catalog/product/cache/${'0'.repeat(32)}/g/a/garden.jpg`, '', 404],
    ['missing original', '/catalog/product/n/o/nothing.jpg', 'width=100', 404],
  ])(
    '%s → %s with a short TTL, a plain message and nothing cached',
    async (_label, rawPath, query, status) => {
      const before = await listKeys(s3, bucket, 'derived/');
      const response = await serve(rawPath, query);
      expect(response.status).toBe(status);
      expect(response.headers).toMatchObject({
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'public, max-age=60',
      });
      expect(String(response.body)).toMatch(/^[^\n]{1,80}\n$/);
      expect(await listKeys(s3, bucket, 'derived/')).toEqual(before);
      expect(telemetry.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: 'image request refused',
          fields: expect.objectContaining({ status }),
        }),
      );
    },
  );

  it('refuses other methods with 405', async () => {
    const response = await serve(garden, 'width=10', { method: 'POST' });
    expect([response.status, response.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('answers HEAD without a body', async () => {
    const response = await serve(garden, 'width=90', { method: 'HEAD' });
    expect([response.status, response.body]).toEqual([200, undefined]);
  });

  it.each([
    ['an SVG with an external entity', 'x.jpg', () => Promise.resolve(hostileSvg), 415],
    ['a text file named .jpg', 'text.jpg', () => Promise.resolve(Buffer.from('<?php echo "hi"; ?>')), 415],
    ['an empty object', 'empty.jpg', () => Promise.resolve(Buffer.alloc(0)), 415],
    ['a truncated JPEG', 'cut.jpg', async () => (await smallPhoto()).subarray(0, 4000), 415],
    ['a PNG that claims it is a JPEG', 'fake.jpg', transparentPng, 200],
    ['a decompression bomb', 'bomb.png', () => Promise.resolve(decompressionBombPng()), 413],
    ['an animation over the frame limit', 'long.gif', () => animatedGif(12, 16), 413],
    ['a HEIC that cannot be decoded', 'photo.heic', heicLike, 415],
  ])('refuses %s', async (_label, name, body, status) => {
    await putObject(s3, bucket, `catalog/product/bad/${name}`, await body());
    const response = await serve(`/catalog/product/bad/${name}`, 'width=100');
    expect(response.status).toBe(status);
    if (status !== 200) {
      expect(await listKeys(s3, bucket, `derived/catalog/product/bad/${name}/`)).toEqual([]);
      expect(telemetry.counts.get(`ImageServeRefused{status=${status}}`)).toBe(1);
    }
  });

  it('refuses an original over the byte limit before downloading it', async () => {
    await putObject(s3, bucket, 'catalog/product/big/garden.jpg', photo('Garden.jpg'));
    const response = await serve(
      '/catalog/product/big/garden.jpg',
      'width=100',
      {},
      {
        settings: { limits: { ...settings.limits, maxSourceBytes: 1000 } },
      },
    );
    expect(response.status).toBe(413);
  });

  describe('with signing on', () => {
    const keys = ['current-key-0123456789abcdef0123456789', 'next-key-0123456789abcdef01234567890'];
    const signed = { settings: { signingKeys: keys } };

    it('serves a URL signed with either active key', async () => {
      for (const key of keys) {
        const s = signatureFor(key, 'catalog/product/g/a/garden.jpg/w300.inside/auto.jpeg');
        expect((await serve(garden, `width=300&s=${s}`, {}, signed)).status).toBe(200);
      }
    });

    it.each([
      ['unsigned', 'width=300'],
      [
        'signed for another size',
        `width=301&s=${signatureFor(keys[0] ?? '', 'catalog/product/g/a/garden.jpg/w300.inside/auto.jpeg')}`,
      ],
      [
        'signed with a retired key',
        `width=300&s=${signatureFor('old-key-0123456789abcdef0123456789ab', 'catalog/product/g/a/garden.jpg/w300.inside/auto.jpeg')}`,
      ],
    ])('refuses a request %s with 403 before touching S3', async (_label, query) => {
      const response = await serve(garden, query, {}, { ...signed, store: failingStore() });
      expect(response.status).toBe(403);
    });
  });
});

describe('imageServe failures and large outputs', () => {
  const garden = '/catalog/product/g/a/garden.jpg';

  it('answers 500, uncached, when S3 fails, and logs the key', async () => {
    const response = await serve(garden, 'width=333', {}, { store: failingStore() });
    expect(response.status).toBe(500);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toBe('internal error\n');
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ key: 'catalog/product/g/a/garden.jpg' }),
      }),
    );
  });

  it('stores an output too large for a synchronous response and redirects to it', async () => {
    const large = { settings: { maxInlineBytes: 20_000 } };
    const miss = await serve(garden, 'width=1600&format=jpg', {}, large);
    expect([miss.status, miss.headers.location, miss.headers['cache-control']]).toEqual([
      302,
      `${garden}?width=1600&format=jpg`,
      'no-store',
    ]);
    expect(await listKeys(s3, bucket, 'derived/catalog/product/g/a/garden.jpg/w1600.')).toEqual([
      'derived/catalog/product/g/a/garden.jpg/w1600.inside.jpg',
    ]);
    const hit = await serve(
      garden,
      'width=1600&format=jpg',
      {},
      {
        settings: { ...large.settings, redirectBaseUrl: 'https://cdn.example.com/' },
      },
    );
    expect([hit.status, hit.headers.location]).toEqual([
      302,
      'https://cdn.example.com/derived/catalog/product/g/a/garden.jpg/w1600.inside.jpg',
    ]);
  });
});

describe('functions/imageServe with events/image-request.json', () => {
  it('returns the sample request as a base64 image', async () => {
    await putObject(s3, bucket, 'catalog/product/m/b/mb01-blue 0.jpg', await smallPhoto(800));
    process.env.MEDIA_BUCKET = bucket;
    const { handler } = await import('../../../functions/imageServe.ts');
    const event = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../events/image-request.json'), 'utf8'),
    ) as LambdaFunctionURLEvent;

    const result = (await handler(event, lambdaContext())) as Exclude<LambdaFunctionURLResult, string>;

    expect([result.statusCode, result.isBase64Encoded, result.headers?.['content-type']]).toEqual([
      200,
      true,
      'image/webp',
    ]);
    const meta = await sharp(Buffer.from(String(result.body), 'base64')).metadata();
    // 800×500 covered over 640×800 (Fastly cover = no crop), never upscaled: the original size.
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 800, 500]);
  });
});

/** Every call fails as S3 does under a 503. */
function failingStore(): ServedObjectStore {
  const fail = (key: string) =>
    Promise.reject(
      new TransientStorageError(`GetObject ${key} failed (HTTP 503): SlowDown`, { bucket, key }),
    );
  return {
    getVariant: (key) => fail(key),
    getOriginal: (key) => fail(key),
    putVariant: (request) => fail(request.key),
  };
}

/** An AVIF re-branded as HEIC with an HEVC item: what an iPhone upload looks like to a decoder without HEVC. */
async function heicLike(): Promise<Buffer> {
  const avif = Buffer.from(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#f00' } })
      .avif()
      .toBuffer(),
  );
  const patched = Buffer.from(
    avif.toString('latin1').replaceAll('avif', 'heic').replaceAll('av01', 'hvc1'),
    'latin1',
  );
  return patched;
}

function lambdaContext() {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'imageServe',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:imageServe',
    memoryLimitInMB: '1536',
    awsRequestId: 'test-request',
    logGroupName: '/aws/lambda/imageServe',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
