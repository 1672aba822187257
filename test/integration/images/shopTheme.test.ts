import type { S3Client } from '@aws-sdk/client-s3';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadMagentoTheme } from '../../../lib/config/magentoTheme.ts';
import { magentoCacheHash } from '../../../lib/images/magento/imageHash.ts';
import { lumaTheme } from '../../../lib/images/magento/lumaImages.ts';
import { magentoImageOf } from '../../../lib/images/magento/viewXml.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import {
  embeddedS3,
  emptyAndDeleteBucket,
  freshBucket,
  getObject,
  putObject,
  s3Event,
} from '../../helpers/s3.ts';
import { lambdaContext } from '../../unit/observability/capture.ts';

// A shop's own theme (a Luma child: product_page_image_medium 800×800, a new unframed 400×200 id) given
// the way serverless.yml gives it: MAGENTO_VIEW_XML naming the file inside the package. The real
// function modules run against moto, so what a deployed function reads at cold start is what is tested.
const themeFile = 'test/fixtures/images/themes/Acme/child/etc/view.xml';
const theme = loadMagentoTheme([themeFile]);
/** Magento's md5 cache directory of one of the theme's image ids (imageHash.ts, pinned by Magento's PHP vectors). */
const hashOf = (id: string) => {
  const entry = theme.images.get(id);
  if (entry === undefined) throw new Error(`the theme has no ${id}`);
  return magentoCacheHash(magentoImageOf(entry, theme, { quality: 80 }), 'md5');
};
const medium = hashOf('product_page_image_medium');
const wide = hashOf('acme_listing_wide');

let s3: S3Client;
let bucket: string;

/** 1000×1250 (Luma's 4:5): framed into a square it is letterboxed, inside a 400×200 box it is 160×200. */
const original = () =>
  sharp({ create: { width: 1000, height: 1250, channels: 3, background: '#3a6' } })
    .jpeg()
    .toBuffer();

beforeAll(async () => {
  embeddedEnv();
  s3 = embeddedS3();
  bucket = await freshBucket(s3);
  vi.stubEnv('MEDIA_BUCKET', bucket);
  vi.stubEnv('MAGENTO_HASH_ALGORITHM', 'md5');
  vi.stubEnv('MAGENTO_VIEW_XML', themeFile);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

describe("a shop's own view.xml (MAGENTO_VIEW_XML), through the real functions", () => {
  it("differs from Luma's table where the theme changed it", () => {
    const luma = lumaTheme.images.get('product_page_image_medium');
    expect(luma && magentoCacheHash(magentoImageOf(luma, lumaTheme, { quality: 80 }), 'md5')).not.toBe(
      medium,
    );
  });

  it.each([
    ['product_page_image_medium', () => medium, 800, 800],
    ['acme_listing_wide', () => wide, 160, 200],
  ])('imageServe renders the %s hash URL at its theme size', async (_id, hash, width, height) => {
    // Prepare
    await putObject(s3, bucket, 'catalog/product/s/e/served.jpg', await original());
    const { handler } = await import('../../../functions/imageServe.ts');

    // Act
    const result = (await handler(
      {
        version: '2.0',
        rawPath: `/media/catalog/product/cache/${hash()}/s/e/served.jpg`,
        rawQueryString: '',
        headers: { accept: 'image/jpeg,*/*' },
        requestContext: { http: { method: 'GET' } },
      },
      lambdaContext('imageServe', 1536, 20_000),
    )) as Exclude<LambdaFunctionURLResult, string>;

    // Assess
    expect(result.statusCode).toBe(200);
    const meta = await sharp(Buffer.from(String(result.body), 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, height]);
  });

  it('imageVariants pre-generates both theme sizes on upload, under cache.<hash>', async () => {
    // Prepare
    const key = 'catalog/product/u/p/uploaded.jpg';
    await putObject(s3, bucket, key, await original());
    const { handler } = await import('../../../functions/imageVariants.ts');

    // Act
    await handler(
      s3Event(bucket, [{ action: 'created', key }]),
      lambdaContext('imageVariants', 2048, 120_000),
    );

    // Assess
    const sizes = await Promise.all(
      [medium, wide].map(async (hash) => {
        const { bytes } = await getObject(s3, bucket, `derived/${key}/cache.${hash}.jpg`);
        const meta = await sharp(bytes).metadata();
        return [meta.width, meta.height];
      }),
    );
    expect(sizes).toEqual([
      [800, 800],
      [160, 200],
    ]);
  });
});
