import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { type ServeDeps, type ServeSettings, serveImage } from '../../lib/images/imageServer.ts';
import { buildCacheTable, type MagentoCacheTable } from '../../lib/images/magento/cacheTable.ts';
import { magentoCacheHash } from '../../lib/images/magento/imageHash.ts';
import { lumaImages, lumaTheme } from '../../lib/images/magento/lumaImages.ts';
import { magentoPlacement } from '../../lib/images/magento/magentoGeometry.ts';
import { magentoImageOf } from '../../lib/images/magento/viewXml.ts';
import { storefrontCorpus } from '../../test/helpers/storefront/corpus.ts';
import { type FormShare, type Serve, servedShare } from '../../test/helpers/storefront/judge.ts';
import { magentoHashVectors } from '../../test/helpers/storefront/magentoHashes.ts';
import { storefrontOriginalImages } from '../../test/helpers/storefront/originals.ts';
import { median, quantile } from './stats.ts';

/** A 2.4.8 Luma shop's cache table, wired into imageServe's settings as the function does. */
export function withLumaCache(settings: ServeSettings): {
  settings: ServeSettings;
  table: MagentoCacheTable;
} {
  const table = buildCacheTable({ theme: lumaTheme, algorithm: 'md5' });
  return {
    table,
    settings: {
      ...settings,
      magentoCache: {
        lookup: (hash) => {
          const image = table.lookup(hash);
          return image && { ...image, place: (source) => magentoPlacement(source, image) };
        },
      },
    },
  };
}

const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

/**
 * Every URL the storefront emits (the test corpus: PWA Studio's own makeUrl for Venia's call sites,
 * Magento's hash and parameter URLs, Magento's Fastly module), served by serveImage() from `bucket`
 * and judged; plus every Luma view.xml image id as a Magento hash URL, judged against the size
 * Magento's own geometry gives (magentoPlacement, pinned to Magento's PHP by its known answers).
 */
export async function storefrontShares(
  s3: S3Client,
  bucket: string,
  settings: ServeSettings,
  deps: ServeDeps,
): Promise<{ shares: FormShare[]; lumaIds: { total: number; served: number; failures: string[] } }> {
  const originals = await storefrontOriginalImages();
  for (const [key, { bytes }] of originals) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${settings.rules.layout.mediaPrefix}${key}`,
        Body: bytes,
      }),
    );
  }
  const serve: Serve = async ({ rawPath, rawQuery, accept }) => {
    const response = await serveImage({ method: 'GET', rawPath, rawQuery, accept }, settings, deps);
    return {
      status: response.status,
      contentType: response.headers['content-type'] ?? '',
      body: response.body,
    };
  };
  const corpus = await storefrontCorpus(magentoHashVectors('md5'));
  const shares = await servedShare(
    corpus,
    serve,
    new Map([...originals].map(([key, { size }]) => [key, size])),
  );

  const product = 'catalog/product/m/b/mb01.jpg';
  const source = originals.get(product)?.size ?? { width: 0, height: 0 };
  const failures: string[] = [];
  let served = 0;
  for (const entry of lumaImages) {
    const image = magentoImageOf(entry, lumaTheme);
    const hash = magentoCacheHash(image, 'md5');
    let expected: { width: number; height: number };
    try {
      expected = magentoPlacement(source, image).canvas;
    } catch {
      continue; // a size Magento itself fails to render (its width rounds to 0): nothing to serve
    }
    const response = await serve({
      rawPath: `/media/catalog/product/cache/${hash}/m/b/mb01.jpg`,
      rawQuery: '',
      accept: chrome,
    });
    const body = response.body;
    const got = typeof body === 'string' || body === undefined ? undefined : await sharp(body).metadata();
    if (response.status === 200 && got?.width === expected.width && got.height === expected.height) served++;
    else
      failures.push(
        `${entry.id}: ${response.status} ${got?.width ?? '?'}×${got?.height ?? '?'} (want ${expected.width}×${expected.height})`,
      );
  }
  return { shares, lumaIds: { total: lumaImages.length, served, failures } };
}

/** Nanoseconds per hash lookup (hits and misses alike), over `runs` runs of `perRun` lookups: median and p99 of the runs. */
export function lookupCost(
  table: MagentoCacheTable,
  runs = 101,
  perRun = 20_000,
): { medianNs: number; p99Ns: number } {
  const hashes = [...table.entries.keys(), 'ffffffffffffffffffffffffffffffff'];
  const perLookup: number[] = [];
  let found = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perRun; i++) if (table.lookup(hashes[i % hashes.length] ?? '')) found++;
    perLookup.push(Number(process.hrtime.bigint() - t0) / perRun);
  }
  if (found === 0) throw new Error('no lookup hit: the table is empty');
  return { medianNs: median(perLookup), p99Ns: quantile(perLookup, 0.99) };
}
