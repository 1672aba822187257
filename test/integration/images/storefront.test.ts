import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadImageServeConfig } from '../../../lib/config/imageServeConfig.ts';
import { createImageServeHandler } from '../../../lib/images/imageServeHandler.ts';
import { buildCacheTable } from '../../../lib/images/magento/cacheTable.ts';
import { lumaTheme } from '../../../lib/images/magento/lumaImages.ts';
import { magentoPlacement } from '../../../lib/images/magento/magentoGeometry.ts';
import { S3ServedObjectStore } from '../../../lib/images/servedObjectStore.ts';
import { metricsDiagnostics } from '../../../lib/observability/telemetry.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { embeddedS3, emptyAndDeleteBucket, freshBucket, putObject } from '../../helpers/s3.ts';
import { storefrontCorpus } from '../../helpers/storefront/corpus.ts';
import type { Size } from '../../helpers/storefront/intent.ts';
import { type FormShare, type Serve, servedShare } from '../../helpers/storefront/judge.ts';
import { magentoHashVectors } from '../../helpers/storefront/magentoHashes.ts';
import { storefrontOriginalImages } from '../../helpers/storefront/originals.ts';

let s3: S3Client;
let bucket: string;
let serve: Serve;
let sizes: Map<string, Size>;

beforeAll(async () => {
  embeddedEnv();
  s3 = embeddedS3();
  bucket = await freshBucket(s3);
  const made = await storefrontOriginalImages();
  for (const [key, { bytes }] of made) await putObject(s3, bucket, key, bytes);
  sizes = new Map([...made].map(([key, { size }]) => [key, size]));

  // The production configuration path, with every media root the storefront names.
  const config = loadImageServeConfig({
    MEDIA_BUCKET: bucket,
    MEDIA_ROOTS: 'catalog/product/,catalog/category/,attribute/swatch/,wysiwyg/',
  });
  // A 2.4.8 Luma shop's cache table, wired as imageServer.ts documents.
  const table = buildCacheTable({ theme: lumaTheme, algorithm: 'md5' });
  const settings = {
    ...config.settings,
    magentoCache: {
      lookup: (hash: string) => {
        const image = table.lookup(hash);
        return image && { ...image, place: (source: Size) => magentoPlacement(source, image) };
      },
    },
  };
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  const logger = new Logger({ serviceName: 'storefront-test', logLevel: 'SILENT' });
  const telemetry = {
    logger,
    metrics: new Metrics({
      namespace: 'storefront-test',
      serviceName: 'storefront-test',
      logger: metricsDiagnostics(logger),
    }),
  };
  const handler = createImageServeHandler({
    settings,
    store: new S3ServedObjectStore(s3, bucket),
    telemetry,
  });
  serve = async ({ rawPath, rawQuery, accept }) => {
    const event = {
      rawPath,
      rawQueryString: rawQuery,
      headers: { accept },
      requestContext: { http: { method: 'GET' } },
    } as unknown as LambdaFunctionURLEvent;
    const result = await handler(event, { awsRequestId: 'storefront' } as Context);
    const body =
      result.body === undefined
        ? undefined
        : result.isBase64Encoded
          ? Buffer.from(result.body, 'base64')
          : result.body;
    return {
      status: result.statusCode ?? 0,
      contentType: String(result.headers?.['content-type'] ?? ''),
      body,
    };
  };
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

const summary = (shares: readonly FormShare[]) =>
  shares
    .map(
      (s) =>
        `${s.form}: ${s.served}/${s.total}${Object.entries(s.failures)
          .map(([c, f]) => `\n  ${f.count} × ${c} (${f.example}: ${f.detail})`)
          .join('')}`,
    )
    .join('\n');

describe('imageServe serves every URL the storefront emits', () => {
  it('serves each URL form as intended, with both Accept headers', async () => {
    // Hash URLs named with Magento's own PHP's hashes (known answers), not with lib/images/magento's.
    const corpus = await storefrontCorpus(magentoHashVectors('md5'));

    const shares = await servedShare(corpus, serve, sizes);

    // Every form, PWA Studio's resize query on a Magento hash URL included (applied on top of
    // Magento's rendition, as Fastly image optimisation does).
    expect(
      shares.filter((s) => s.served < s.total).map((s) => s.form),
      summary(shares),
    ).toEqual([]);
    expect(shares.reduce((sum, s) => sum + s.served, 0)).toBe(shares.reduce((sum, s) => sum + s.total, 0));
  }, 600_000);
});
