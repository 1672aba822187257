import {
  CopyObjectCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';
import { magentoSizesOf } from '../../../lib/images/imageVariantsHandler.ts';
import { buildCacheTable } from '../../../lib/images/magento/cacheTable.ts';
import { lumaTheme } from '../../../lib/images/magento/lumaImages.ts';
import { magentoPlacement } from '../../../lib/images/magento/magentoGeometry.ts';
import { processObjectEvents } from '../../../lib/images/processObjectEvents.ts';
import { parseS3Records } from '../../../lib/images/s3Events.ts';
import type { VariantSettings } from '../../../lib/images/variantPipeline.ts';
import { S3VariantStore } from '../../../lib/images/variantStore.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import {
  animatedGif,
  decompressionBombPng,
  hostileSvg,
  orientedCard,
  photo,
  pixelAt,
  realPhotos,
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

const settings: VariantSettings = {
  layout: { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' },
  presets: [
    { name: 'category', width: 240, height: 300, fit: 'frame' },
    { name: 'fit', width: 200, height: 200, fit: 'inside' },
    { name: 'huge', width: 5000, height: 5000, fit: 'inside' },
  ],
  formats: ['jpeg', 'webp', 'avif'],
  limits: { maxPixels: 50_000_000, maxFrames: 10, maxSourceBytes: 30 * 1024 * 1024 },
  encode: { jpegQuality: 80, webpQuality: 80, avifQuality: 50, avifEffort: 2 },
  uploadConcurrency: 8,
};

let s3: S3Client;
let bucket: string;
let telemetry: ReturnType<typeof recordingTelemetry>;

beforeAll(async () => {
  embeddedEnv();
  s3 = embeddedS3();
  bucket = await freshBucket(s3);
});
afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});
beforeEach(() => {
  telemetry = recordingTelemetry();
});

const deps = () => ({
  store: new S3VariantStore(s3, bucket),
  log: telemetry.log,
  metrics: telemetry.metrics,
});

async function upload(key: string, body: Buffer | string): Promise<void> {
  await putObject(s3, bucket, key, body);
}

async function run(records: { action: 'created' | 'removed'; key: string; size?: number }[]) {
  return processObjectEvents(parseS3Records(s3Event(bucket, records).Records), bucket, settings, deps());
}

const folderOf = (relative: string) => `derived/catalog/product/${relative}/`;
const variantNames = [
  'category.avif',
  'category.jpg',
  'category.webp',
  'fit.avif',
  'fit.jpg',
  'fit.webp',
  'huge.avif',
  'huge.jpg',
  'huge.webp',
  'manifest.json',
];

describe('imageVariants against the embedded S3', () => {
  it('generates every preset × format of a real photograph with the right headers and metadata', async () => {
    const key = 'catalog/product/g/a/garden.jpg';
    const body = photo('Garden.jpg');
    await upload(key, body);
    const etag = (await headObject(s3, bucket, key)).ETag;

    const summary = await run([{ action: 'created', key, size: body.length }]);

    expect(summary.results).toEqual([expect.objectContaining({ status: 'generated', key })]);
    expect(await listKeys(s3, bucket, folderOf('g/a/garden.jpg'))).toEqual(
      variantNames.map((n) => folderOf('g/a/garden.jpg') + n),
    );
    const jpeg = await getObject(s3, bucket, `${folderOf('g/a/garden.jpg')}category.jpg`);
    expect(jpeg.ContentType).toBe('image/jpeg');
    expect(jpeg.CacheControl).toBe('public, max-age=31536000, immutable');
    expect(jpeg.Metadata?.['source-etag']).toBe(etag);
    const meta = await sharp(jpeg.bytes).metadata();
    // Garden.jpg is 2560×1600: fitted inside 240×300 → 240×150, letterboxed to the 240×300 frame.
    expect([meta.width, meta.height, meta.isProgressive, meta.space, meta.exif, meta.icc]).toEqual([
      240,
      300,
      true,
      'srgb',
      undefined,
      undefined,
    ]);
    expect(await pixelAt(jpeg.bytes, 120, 5)).toEqual([255, 255, 255]);
    const fit = await sharp(
      (await getObject(s3, bucket, `${folderOf('g/a/garden.jpg')}fit.webp`)).bytes,
    ).metadata();
    expect([fit.format, fit.width, fit.height]).toEqual(['webp', 200, 125]);
    const avif = await getObject(s3, bucket, `${folderOf('g/a/garden.jpg')}fit.avif`);
    expect(avif.ContentType).toBe('image/avif');
    expect((await sharp(avif.bytes).metadata()).format).toBe('heif');
    // No upscaling: a 5000×5000 box keeps the original size.
    const huge = await sharp(
      (await getObject(s3, bucket, `${folderOf('g/a/garden.jpg')}huge.jpg`)).bytes,
    ).metadata();
    expect([huge.width, huge.height]).toEqual([2560, 1600]);
    expect(telemetry.counts.get('VariantsGenerated')).toBe(9);
  });

  it('processes every real photograph of the fixture set', async () => {
    const photos = realPhotos().slice(0, 4);
    const records = [];
    for (const [i, path] of photos.entries()) {
      const body = photo(path.split('/').pop() ?? '');
      await upload(`catalog/product/set/${i}.jpg`, body);
      records.push({ action: 'created' as const, key: `catalog/product/set/${i}.jpg`, size: body.length });
    }
    const summary = await run(records);
    expect(summary.results.map((r) => r.status)).toEqual(photos.map(() => 'generated'));
    expect((await listKeys(s3, bucket, 'derived/catalog/product/set/')).length).toBe(photos.length * 10);
  });

  it.each([
    [6, 300, 400, 'right'],
    [8, 300, 400, 'left-bottom'],
  ])('applies EXIF orientation %i before resizing', async (orientation, width, height, redCorner) => {
    const key = `catalog/product/orient/o${orientation}.jpg`;
    const body = await orientedCard(orientation);
    await upload(key, body);
    await run([{ action: 'created', key, size: body.length }]);
    const out = (await getObject(s3, bucket, `${folderOf(`orient/o${orientation}.jpg`)}huge.jpg`)).bytes;
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([width, height, undefined]);
    // Stored top-left red block: orientation 6 (rotate 90° CW) moves it top-right, 8 (90° CCW) bottom-left.
    const [x, y] = redCorner === 'right' ? [width - 10, 10] : [10, height - 10];
    const [r, g, b] = await pixelAt(out, x, y);
    expect(r).toBeGreaterThan(200);
    expect(g + b).toBeLessThan(80);
    const [r0] = await pixelAt(out, 10, 10);
    expect(r0).toBeLessThan(60);
  });

  it('converts a CMYK JPEG to 3-channel sRGB', async () => {
    const key = 'catalog/product/cmyk.jpg';
    const body = await sharp(await smallPhoto())
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(body).metadata()).space).toBe('cmyk');
    await upload(key, body);
    expect((await run([{ action: 'created', key, size: body.length }])).results[0]?.status).toBe('generated');
    const meta = await sharp(
      (await getObject(s3, bucket, `${folderOf('cmyk.jpg')}fit.jpg`)).bytes,
    ).metadata();
    expect([meta.space, meta.channels, meta.depth]).toEqual(['srgb', 3, 'uchar']);
  });

  it('reduces a 16-bit PNG to 8 bits per channel', async () => {
    const key = 'catalog/product/deep.png';
    const body = await sharp(await smallPhoto())
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(body).metadata()).depth).toBe('ushort');
    await upload(key, body);
    expect((await run([{ action: 'created', key, size: body.length }])).results[0]?.status).toBe('generated');
    const meta = await sharp(
      (await getObject(s3, bucket, `${folderOf('deep.png')}fit.webp`)).bytes,
    ).metadata();
    expect([meta.depth, meta.width]).toEqual(['uchar', 200]);
  });

  it('flattens transparency onto white for JPEG and keeps it for WebP', async () => {
    const key = 'catalog/product/alpha.png';
    const body = await transparentPng();
    await upload(key, body);
    await run([{ action: 'created', key, size: body.length }]);
    const jpeg = (await getObject(s3, bucket, `${folderOf('alpha.png')}fit.jpg`)).bytes;
    expect(await pixelAt(jpeg, 2, 2)).toEqual([255, 255, 255]);
    const webp = await sharp(
      (await getObject(s3, bucket, `${folderOf('alpha.png')}fit.webp`)).bytes,
    ).metadata();
    expect(webp.hasAlpha).toBe(true);
  });

  it('uses the first frame of an animated GIF within the frame cap', async () => {
    const key = 'catalog/product/anim.gif';
    const body = await animatedGif(3);
    await upload(key, body);
    expect((await run([{ action: 'created', key, size: body.length }])).results[0]?.status).toBe('generated');
    const jpeg = (await getObject(s3, bucket, `${folderOf('anim.gif')}fit.jpg`)).bytes;
    const [r, g, b] = await pixelAt(jpeg, 32, 32);
    expect(r).toBeGreaterThan(200);
    expect(g + b).toBeLessThan(60);
  });

  it.each([
    ['decompression-bomb PNG', 'bomb.png', () => Promise.resolve(decompressionBombPng()), 'too-many-pixels'],
    [
      'truncated JPEG',
      'truncated.jpg',
      async () => {
        const b = await smallPhoto();
        return b.subarray(0, Math.floor(b.length * 0.6));
      },
      'corrupt',
    ],
    [
      'text file named .jpg',
      'notes.jpg',
      () => Promise.resolve(Buffer.from('this is not an image, just text\n')),
      'unsupported-format',
    ],
    ['SVG with an external entity', 'logo.svg', () => Promise.resolve(hostileSvg), 'svg-not-allowed'],
    ['SVG renamed .png', 'logo.png', () => Promise.resolve(hostileSvg), 'svg-not-allowed'],
    ['animated GIF over the frame cap', 'long.gif', () => animatedGif(12, 16), 'too-many-frames'],
  ])('rejects a %s, logs bucket, key and reason, and writes nothing', async (_label, name, make, reason) => {
    const key = `catalog/product/bad/${name}`;
    const body = await make();
    await upload(key, body);

    const summary = await run([{ action: 'created', key, size: body.length }]);

    expect(summary.results).toEqual([expect.objectContaining({ status: 'rejected', key, reason })]);
    expect(summary.failed).toEqual([]);
    expect(await listKeys(s3, bucket, folderOf(`bad/${name}`))).toEqual([]);
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ bucket, key, reason }) }),
    );
    expect(telemetry.counts.get(`VariantsRejected{reason=${reason}}`)).toBe(1);
  });

  it('keeps processing the other records of an event when one is bad', async () => {
    const good = await smallPhoto();
    await upload('catalog/product/mix/good.jpg', good);
    await upload('catalog/product/mix/bad.jpg', 'garbage');
    const summary = await run([
      { action: 'created', key: 'catalog/product/mix/bad.jpg', size: 7 },
      { action: 'created', key: 'catalog/product/mix/good.jpg', size: good.length },
    ]);
    expect(summary.results.map((r) => r.status)).toEqual(['rejected', 'generated']);
    expect(await listKeys(s3, bucket, folderOf('mix/good.jpg'))).toHaveLength(10);
  });

  it('skips zero-byte objects, folder placeholders and its own derived output', async () => {
    await upload('catalog/product/empty.jpg', Buffer.alloc(0));
    await upload('catalog/product/folder/', Buffer.alloc(0));
    const summary = await run([
      { action: 'created', key: 'catalog/product/empty.jpg', size: 0 },
      { action: 'created', key: 'catalog/product/folder/', size: 0 },
      { action: 'created', key: 'derived/catalog/product/g/a/garden.jpg/fit.jpg', size: 100 },
    ]);
    expect(summary.results.map((r) => [r.status, r.status === 'failed' ? '' : r.detail])).toEqual([
      ['skipped', 'empty'],
      ['skipped', 'not-an-original:folder'],
      ['skipped', 'not-an-original:derived'],
    ]);
    expect(await listKeys(s3, bucket, 'derived/catalog/product/empty.jpg/')).toEqual([]);
  });

  it.each([
    ['a space', 'catalog/product/keys/red shoe.jpg'],
    ['a plus', 'catalog/product/keys/a+b.jpg'],
    ['a percent-encoded plus', 'catalog/product/keys/c%2Bd.jpg'],
    ['non-ASCII', 'catalog/product/keys/größe-ß-水.jpg'],
  ])('decodes form-encoded keys with %s', async (_label, key) => {
    const body = await smallPhoto(200);
    await upload(key, body);
    const summary = await run([{ action: 'created', key, size: body.length }]);
    expect(summary.results).toEqual([expect.objectContaining({ status: 'generated', key })]);
    const relative = key.slice('catalog/product/'.length);
    expect(await listKeys(s3, bucket, folderOf(relative))).toHaveLength(10);
  });

  it('treats a duplicate ObjectCreated as done and deletes variants on ObjectRemoved', async () => {
    const key = 'catalog/product/dup/shoe.jpg';
    const body = await smallPhoto();
    await upload(key, body);
    await run([{ action: 'created', key, size: body.length }]);
    const first = await headObject(s3, bucket, `${folderOf('dup/shoe.jpg')}fit.jpg`);

    const again = await run([{ action: 'created', key, size: body.length }]);
    expect(again.results[0]).toEqual(expect.objectContaining({ status: 'skipped', detail: 'up-to-date' }));
    expect((await headObject(s3, bucket, `${folderOf('dup/shoe.jpg')}fit.jpg`)).LastModified).toEqual(
      first.LastModified,
    );

    await s3.send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const removed = await run([{ action: 'removed', key }]);
    expect(removed.results[0]).toEqual(expect.objectContaining({ status: 'removed', detail: 'deleted 10' }));
    expect(await listKeys(s3, bucket, folderOf('dup/shoe.jpg'))).toEqual([]);
  });

  it('does not resurrect variants when ObjectCreated arrives after ObjectRemoved', async () => {
    const key = 'catalog/product/late/shoe.jpg';
    const body = await smallPhoto();
    await upload(key, body);
    await s3.send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const summary = await run([
      { action: 'removed', key },
      { action: 'created', key, size: body.length },
    ]);
    expect(summary.results.map((r) => (r.status === 'failed' ? '' : r.detail))).toEqual([
      'deleted 0',
      'original-gone',
    ]);
    expect(await listKeys(s3, bucket, folderOf('late/shoe.jpg'))).toEqual([]);
  });

  it('keeps the variants of a re-uploaded original when a stale ObjectRemoved arrives late', async () => {
    const key = 'catalog/product/reup/shoe.jpg';
    const body = await smallPhoto();
    await upload(key, body);
    await run([{ action: 'created', key, size: body.length }]);
    const summary = await run([{ action: 'removed', key }]);
    expect(summary.results[0]).toEqual(
      expect.objectContaining({ status: 'skipped', detail: 'original-exists' }),
    );
    expect(await listKeys(s3, bucket, folderOf('reup/shoe.jpg'))).toHaveLength(10);
  });

  it('replaces the variants of a changed original and drops stale ones', async () => {
    const key = 'catalog/product/change/shoe.jpg';
    await upload(key, await smallPhoto(400));
    await run([{ action: 'created', key, size: 1 }]);
    await upload(`${folderOf('change/shoe.jpg')}w999.webp`, 'on-the-fly variant of the old version');
    const replacement = await sharp(photo('Aqua.jpg')).resize({ width: 300 }).jpeg().toBuffer();
    await upload(key, replacement);
    const etag = (await headObject(s3, bucket, key)).ETag;
    const summary = await run([{ action: 'created', key, size: replacement.length }]);
    expect(summary.results[0]?.status).toBe('generated');
    const keys = await listKeys(s3, bucket, folderOf('change/shoe.jpg'));
    expect(keys).toHaveLength(10);
    expect(
      (await headObject(s3, bucket, `${folderOf('change/shoe.jpg')}huge.jpg`)).Metadata?.['source-etag'],
    ).toBe(etag);
  });
});

describe('imageVariants on the keys Magento writes (remote storage, prefix example-shop)', () => {
  // The example shop's imageVariants environment as `sls print --stage example-shop` resolves it (the
  // packaging test ties it to the overlay's MAGENTO_REMOTE_STORAGE_PREFIX=example-shop/).
  const shopSettings = () =>
    loadImageVariantsConfig({
      MEDIA_BUCKET: bucket,
      MEDIA_PREFIX: 'example-shop/media/',
      MEDIA_ROOTS: 'catalog/product/,catalog/category/,attribute/swatch/,wysiwyg/',
      DERIVED_PREFIX: 'example-shop/derived/',
      IMAGE_PRESETS: JSON.stringify(settings.presets.slice(0, 2)),
      IMAGE_FORMATS: 'jpeg,webp',
    }).settings;

  const runShop = (records: Parameters<typeof s3Event>[1], eventNames: readonly string[]) => {
    const event = s3Event(bucket, records);
    event.Records.forEach((record, i) => {
      record.eventName = eventNames[i] ?? record.eventName;
    });
    return processObjectEvents(parseS3Records(event.Records), bucket, shopSettings(), deps());
  };

  it('makes the variants of a product image saved in the admin under the derived prefix, and ignores the rest', async () => {
    // What Magento does for a product image (keyLayout.ts names the code): the upload lands in
    // tmp/catalog/product/<c1>/<c2>/, saving the product moves it (S3 copy + delete, Flysystem's move)
    // to catalog/product/<c1>/<c2>/, folders are written as `…/` placeholders, and a storefront render
    // writes Magento's own resized copy under catalog/product/cache/<hash>/.
    const media = 'example-shop/media/';
    const tmp = `${media}tmp/catalog/product/m/b/mb01.jpg`;
    const original = `${media}catalog/product/m/b/mb01.jpg`;
    const folder = `${media}catalog/product/m/b/`;
    const cache = `${media}catalog/product/cache/0123456789abcdef0123456789abcdef/m/b/mb01.jpg`;
    const body = await smallPhoto(600);
    await upload(tmp, body);
    await upload(folder, '');
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: original, CopySource: `${bucket}/${tmp}` }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: tmp }));
    await upload(cache, await sharp(body).resize(240, 300).jpeg().toBuffer());

    const summary = await runShop(
      [
        { action: 'created', key: tmp, size: body.length },
        { action: 'created', key: folder, size: 0 },
        { action: 'created', key: original, size: body.length },
        { action: 'removed', key: tmp },
        { action: 'created', key: cache, size: 1000 },
      ],
      [
        'ObjectCreated:Put',
        'ObjectCreated:Put',
        'ObjectCreated:Copy',
        'ObjectRemoved:Delete',
        'ObjectCreated:Put',
      ],
    );

    expect(summary.results.map((r) => [r.key, r.status, 'detail' in r ? r.detail : ''])).toEqual([
      [tmp, 'skipped', 'not-an-original:outside'],
      [folder, 'skipped', 'not-an-original:folder'],
      [original, 'generated', expect.stringMatching(/^4 variants/)],
      [tmp, 'skipped', 'not-an-original:outside'],
      [cache, 'skipped', 'not-an-original:magento-cache'],
    ]);
    const variants = 'example-shop/derived/catalog/product/m/b/mb01.jpg/';
    expect(await listKeys(s3, bucket, variants)).toEqual(
      ['category.jpg', 'category.webp', 'fit.jpg', 'fit.webp', 'manifest.json'].map((n) => variants + n),
    );
    expect(await listKeys(s3, bucket, 'example-shop/derived/catalog/product/cache/')).toEqual([]);
    expect((await headObject(s3, bucket, `${variants}category.jpg`)).Metadata?.['source-key']).toBe(
      encodeURIComponent(original),
    );
  });

  it.each([
    ['a category image', 'example-shop/media/catalog/category/gear.jpg'],
    ['a swatch image', 'example-shop/media/attribute/swatch/r/e/red.jpg'],
    ['a CMS image', 'example-shop/media/wysiwyg/home/hero.jpg'],
  ])('makes the variants of %s and removes them with it', async (_what, key) => {
    await upload(key, await smallPhoto(300));
    const created = await runShop([{ action: 'created', key, size: 1 }], []);
    const folderKey = `example-shop/derived/${key.slice('example-shop/media/'.length)}/`;
    expect(created.results[0]?.status).toBe('generated');
    expect(await listKeys(s3, bucket, folderKey)).toHaveLength(5);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const removed = await runShop([{ action: 'removed', key }], []);

    expect(removed.results[0]?.status).toBe('removed');
    expect(await listKeys(s3, bucket, folderKey)).toEqual([]);
  });

  it("ignores Magento's resized swatches", async () => {
    const key = 'example-shop/media/attribute/swatch/swatch_image/30x20/r/e/red.jpg';
    await upload(key, await smallPhoto(30));
    const summary = await runShop([{ action: 'created', key, size: 1 }], []);
    expect(summary.results[0]).toEqual(
      expect.objectContaining({ status: 'skipped', detail: 'not-an-original:magento-cache' }),
    );
    expect(await listKeys(s3, bucket, 'example-shop/derived/attribute/swatch/swatch_image/')).toEqual([]);
  });
});

describe("imageVariants pre-generating Magento's cache/<hash>/ sizes (Luma)", () => {
  // Luma's 240×300 category grid under 2.4.8's md5, as Magento's own PHP computes it (the vectors
  // of test/fixtures/images/magento-image-hash pin buildCacheTable).
  const gridHash = '2765542505660baab28ecd555e27366e';
  const sized = (table: ReturnType<typeof buildCacheTable>) =>
    [...table.entries].filter(([, image]) => image.width !== undefined && image.height !== undefined);

  const runMagento = async (
    records: Parameters<typeof s3Event>[1],
    magentoSizes: ReturnType<typeof magentoSizesOf>,
  ) =>
    processObjectEvents(parseS3Records(s3Event(bucket, records).Records), bucket, settings, {
      ...deps(),
      magentoSizes,
    });

  it('renders every distinct sized hash as cache.<hash>.jpg and .webp from the one decode, listed in the manifest', async () => {
    const key = 'catalog/product/m/a/magento.jpg';
    const body = await smallPhoto(1000);
    await upload(key, body);
    const table = buildCacheTable({ theme: lumaTheme, algorithm: 'md5' });
    const expectedHashes = sized(table).map(([hash]) => hash);

    const summary = await runMagento(
      [{ action: 'created', key, size: body.length }],
      magentoSizesOf({ theme: lumaTheme, algorithms: ['md5'], quality: 80 }),
    );

    expect(summary.results[0]?.status).toBe('generated');
    expect(expectedHashes).toContain(gridHash);
    const folder = folderOf('m/a/magento.jpg');
    const keys = await listKeys(s3, bucket, folder);
    const hashKeys = keys.filter((k) => k.startsWith(`${folder}cache.`));
    expect(hashKeys.sort()).toEqual(
      expectedHashes.flatMap((h) => [`${folder}cache.${h}.jpg`, `${folder}cache.${h}.webp`]).sort(),
    );
    const manifest = JSON.parse((await getObject(s3, bucket, `${folder}manifest.json`)).bytes.toString()) as {
      variants: { key: string }[];
    };
    expect(manifest.variants.map((v) => v.key).sort()).toEqual(
      keys.filter((k) => !k.endsWith('manifest.json')).sort(),
    );
    const grid = await getObject(s3, bucket, `${folder}cache.${gridHash}.jpg`);
    const source = await sharp(body).metadata();
    const place = magentoPlacement(
      { width: source.width ?? 0, height: source.height ?? 0 },
      table.lookup(gridHash) ?? {
        keepAspectRatio: true,
        keepFrame: true,
        keepTransparency: true,
        constrainOnly: true,
        background: [255, 255, 255],
        quality: 80,
      },
    );
    const meta = await sharp(grid.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', place.canvas.width, place.canvas.height]);
    expect(grid.ContentType).toBe('image/jpeg');
    expect(grid.Metadata?.preset).toBe(`cache.${gridHash}`);
    expect(
      (await sharp((await getObject(s3, bucket, `${folder}cache.${gridHash}.webp`)).bytes).metadata()).format,
    ).toBe('webp');
  });

  it('reads the crypt key only through its source, serves both algorithms while upgrading, and removes every hash with the original', async () => {
    const key = 'catalog/product/k/e/keyed.jpg';
    await upload(key, await smallPhoto(500));
    const cryptKey = 'c8d9f4a0b2e14f6a9d3b7c5e1f0a2b4c';
    let reads = 0;
    const sizes = magentoSizesOf({
      theme: lumaTheme,
      algorithms: ['hmac-md5', 'md5'],
      quality: 80,
      cryptKeys: {
        cryptKey: async () => {
          reads += 1;
          return cryptKey;
        },
      },
    });
    const both = buildCacheTable({ theme: lumaTheme, algorithm: ['hmac-md5', 'md5'], cryptKeys: [cryptKey] });

    await runMagento([{ action: 'created', key, size: 1 }], sizes);
    await sizes();

    const folder = folderOf('k/e/keyed.jpg');
    const hashKeys = (await listKeys(s3, bucket, folder)).filter((k) => k.startsWith(`${folder}cache.`));
    expect(hashKeys).toHaveLength(sized(both).length * 2);
    expect(hashKeys).toContain(`${folder}cache.${gridHash}.webp`);
    expect(reads).toBe(2);
    expect(telemetry.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain(cryptKey);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const removed = await runMagento([{ action: 'removed', key }], sizes);
    expect(removed.results[0]?.status).toBe('removed');
    expect(await listKeys(s3, bucket, folder)).toEqual([]);
  });
});

describe('imageVariants on a versioned media bucket (the stack versions it)', () => {
  // S3's own events for these operations, as AWS documents them: a DELETE without a version is
  // ObjectRemoved:DeleteMarkerCreated carrying the marker's version id; deleting a version or a delete
  // marker is ObjectRemoved:Delete; copying a version back is ObjectCreated:Copy. moto keeps the
  // versions, markers and HEAD answers exactly, but sends none of these notifications for a versioned
  // bucket, so the records are built here with the version ids moto returned.
  let versioned: string;

  beforeAll(async () => {
    versioned = await freshBucket(s3, 'm2-versioned');
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  });
  afterAll(async () => {
    for (;;) {
      const out = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned }));
      const objects = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key,
        VersionId: v.VersionId,
      }));
      if (objects.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: versioned, Delete: { Objects: objects } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: versioned }));
  });

  const runVersioned = (
    records: { action: 'created' | 'removed'; key: string; eventName: string; versionId?: string }[],
  ) => {
    const event = s3Event(versioned, records);
    event.Records.forEach((record, i) => {
      record.eventName = records[i]?.eventName ?? record.eventName;
      record.s3.object.versionId = records[i]?.versionId;
    });
    return processObjectEvents(parseS3Records(event.Records), versioned, settings, {
      ...deps(),
      store: new S3VariantStore(s3, versioned),
    });
  };

  /** Puts an original and makes its variants; returns the version id S3 gave it. */
  async function originalWithVariants(key: string, body: Buffer): Promise<string> {
    const put = await s3.send(new PutObjectCommand({ Bucket: versioned, Key: key, Body: body }));
    const versionId = put.VersionId ?? '';
    const created = await runVersioned([
      { action: 'created', key, eventName: 'ObjectCreated:Put', versionId },
    ]);
    expect(created.results[0]?.status).toBe('generated');
    return versionId;
  }

  async function deleteMarker(key: string): Promise<string> {
    const out = await s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: key }));
    expect(out.DeleteMarker).toBe(true);
    return out.VersionId ?? '';
  }

  it('treats a delete marker as a removal: the variants go, the original stays as a noncurrent version', async () => {
    const key = 'catalog/product/v/e/marker.jpg';
    const versionId = await originalWithVariants(key, await smallPhoto(300));

    const markerId = await deleteMarker(key);
    const summary = await runVersioned([
      { action: 'removed', key, eventName: 'ObjectRemoved:DeleteMarkerCreated', versionId: markerId },
    ]);

    expect(summary.results[0]).toEqual(expect.objectContaining({ status: 'removed', detail: 'deleted 10' }));
    expect(await listKeys(s3, versioned, folderOf('v/e/marker.jpg'))).toEqual([]);
    expect(telemetry.lines).toContainEqual(
      expect.objectContaining({
        fields: expect.objectContaining({
          key,
          eventName: 'ObjectRemoved:DeleteMarkerCreated',
          versionId: markerId,
        }),
      }),
    );
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: key }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([[versionId, false]]);
    expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[markerId, true]]);
  });

  it('brings the variants back when the delete marker is deleted, which S3 reports as ObjectRemoved:Delete', async () => {
    const key = 'catalog/product/v/e/undelete.jpg';
    const body = await smallPhoto(320);
    await originalWithVariants(key, body);
    const markerId = await deleteMarker(key);
    await runVersioned([
      { action: 'removed', key, eventName: 'ObjectRemoved:DeleteMarkerCreated', versionId: markerId },
    ]);
    expect(await listKeys(s3, versioned, folderOf('v/e/undelete.jpg'))).toEqual([]);

    await s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: key, VersionId: markerId }));
    const summary = await runVersioned([
      { action: 'removed', key, eventName: 'ObjectRemoved:Delete', versionId: markerId },
    ]);

    expect(summary.results[0]).toEqual(expect.objectContaining({ status: 'generated', key }));
    expect(await listKeys(s3, versioned, folderOf('v/e/undelete.jpg'))).toEqual(
      variantNames.map((n) => folderOf('v/e/undelete.jpg') + n),
    );
    const etag = (await headObject(s3, versioned, key)).ETag;
    expect(
      (await headObject(s3, versioned, `${folderOf('v/e/undelete.jpg')}fit.jpg`)).Metadata?.['source-etag'],
    ).toBe(etag);
  });

  it('brings the variants of the old version back when it is copied over the current one (ObjectCreated:Copy)', async () => {
    const key = 'catalog/product/v/e/rollback.jpg';
    const folder = folderOf('v/e/rollback.jpg');
    const first = await originalWithVariants(key, await smallPhoto(300));
    const firstEtag = (await headObject(s3, versioned, key)).ETag;
    // A bad import overwrites it with another image, and a delete follows.
    await originalWithVariants(key, await sharp(photo('Aqua.jpg')).resize({ width: 260 }).jpeg().toBuffer());
    const markerId = await deleteMarker(key);
    await runVersioned([
      { action: 'removed', key, eventName: 'ObjectRemoved:DeleteMarkerCreated', versionId: markerId },
    ]);

    const copy = await s3.send(
      new CopyObjectCommand({
        Bucket: versioned,
        Key: key,
        CopySource: `${versioned}/${key}?versionId=${encodeURIComponent(first)}`,
      }),
    );
    const summary = await runVersioned([
      { action: 'created', key, eventName: 'ObjectCreated:Copy', versionId: copy.VersionId },
    ]);

    expect(summary.results[0]).toEqual(expect.objectContaining({ status: 'generated', key }));
    expect(await listKeys(s3, versioned, folder)).toHaveLength(10);
    expect((await headObject(s3, versioned, `${folder}huge.jpg`)).Metadata?.['source-etag']).toBe(firstEtag);
    const huge = await sharp((await getObject(s3, versioned, `${folder}huge.jpg`)).bytes).metadata();
    expect(huge.width).toBe(300);
  });

  it('leaves the variants alone when a noncurrent version is deleted for good', async () => {
    const key = 'catalog/product/v/e/prune.jpg';
    const folder = folderOf('v/e/prune.jpg');
    const old = await originalWithVariants(key, await smallPhoto(300));
    await originalWithVariants(key, await smallPhoto(280));
    const before = await headObject(s3, versioned, `${folder}fit.jpg`);

    await s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: key, VersionId: old }));
    const summary = await runVersioned([
      { action: 'removed', key, eventName: 'ObjectRemoved:Delete', versionId: old },
    ]);

    expect(summary.results[0]).toEqual(
      expect.objectContaining({ status: 'skipped', detail: 'original-exists' }),
    );
    expect((await headObject(s3, versioned, `${folder}fit.jpg`)).LastModified).toEqual(before.LastModified);
    expect(await listKeys(s3, versioned, folder)).toHaveLength(10);
  });
});
