/**
 * npm run bench:serve — imageServe's latency on the embedded S3 (moto), over real photographs and
 * PWA Studio's srcset sizes (Venia: widths 160–1280, 4:5, `fit=cover`, `auto=webp`, Chrome's Accept):
 *   miss:      cache lookup + GET original + one sharp pipeline + PUT, through serveImage();
 *   hit:       the same request again, answered from S3;
 *   raw sharp: sharp(bytes).rotate().resize(w, h, { fit: 'outside' }).webp() for the same transform,
 *              from bytes already in memory — the lower bound of the miss's work.
 * Plus the AVIF question: on-the-fly AVIF encode time by box size against WebP; and the storefront:
 * every URL PWA Studio (its own makeUrl), Magento (hash and parameter modes) and Magento's Fastly
 * module emit, served and judged (share served as intended), every Luma view.xml image id as a hash
 * URL, and the cost of a hash lookup.
 * `--rounds N` (or BENCH_ROUNDS; default 2) repeats every request on a fresh key. Prints a markdown table; writes
 * bench/results/serve.{md,json,svg}.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { type ServeSettings, serveImage } from '../lib/images/imageServer.ts';
import { lumaPresets } from '../lib/images/presets.ts';
import { S3ServedObjectStore } from '../lib/images/servedObjectStore.ts';
import type { Log, MetricSink } from '../lib/observability/telemetry.ts';
import { awsEnv, upAws } from '../scripts/local/aws.ts';
import { benchArgsOrExit, serveBench } from './lib/args.ts';
import { benchPhotos } from './lib/photos.ts';
import { writePlot } from './lib/plot.ts';
import { fmt, median, quantile } from './lib/stats.ts';
import { lookupCost, storefrontShares, withLumaCache } from './lib/storefront.ts';

// Before anything starts: `--help` and a bad command line end here.
const { rounds } = benchArgsOrExit(serveBench);
const resultsDir = join(import.meta.dirname, 'results');
/** Venia's srcset widths with its 4:5 ratio. */
const sizes = [160, 320, 640, 960, 1280].map((width) => ({ width, height: Math.round((width * 5) / 4) }));
const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

const settings: ServeSettings = {
  rules: {
    layout: {
      mediaPrefix: '',
      roots: ['catalog/product/', 'catalog/category/', 'attribute/swatch/', 'wysiwyg/'],
      derivedPrefix: 'derived/',
    },
    presets: lumaPresets,
    maxDimension: 2560,
  },
  limits: { maxPixels: 50_000_000, maxFrames: 100, maxSourceBytes: 50 * 1024 * 1024 },
  encode: { jpegQuality: 80, webpQuality: 80, avifQuality: 50, avifEffort: 2 },
  avifMaxPixels: 0, // the sizes table measures the WebP path; AVIF is measured on its own below
  signingKeys: [],
  maxInlineBytes: 4_000_000,
  errorMaxAge: 60,
};
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const noMetrics: MetricSink = { count() {}, milliseconds() {}, bytes() {} };

interface Sample {
  photo: string;
  size: string;
  round: number;
  missMs: number;
  hitMs: number;
  rawMs: number;
  /** server-timing of the miss: cache, source, render, store. */
  miss: Record<string, number>;
  hit: Record<string, number>;
}

const timingOf = (header: string | undefined): Record<string, number> =>
  Object.fromEntries(
    (header ?? '')
      .split(', ')
      .filter((e) => e !== '')
      .map((e) => {
        const [name = '', dur = '0'] = e.split(';dur=');
        return [name, Number(dur)];
      }),
  );

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await work();
  return [out, performance.now() - t0];
}

/** Encode time of one box, per format, from a decoded photo: the AVIF budget question. */
async function avifBudget(paths: readonly string[]) {
  const boxes = [
    { width: 200, height: 250 },
    { width: 400, height: 500 },
    { width: 640, height: 800 },
    { width: 1280, height: 1600 },
  ];
  const rows = [];
  for (const box of boxes) {
    const times: Record<string, number[]> = { webp: [], avif: [] };
    for (const path of paths) {
      const canvas = await sharp(path)
        .resize(box.width, box.height, { fit: 'cover' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (const format of ['webp', 'avif'] as const) {
        for (let r = 0; r < rounds; r++) {
          const input = sharp(canvas.data, { raw: canvas.info });
          const [, ms] = await timed(() =>
            (format === 'webp'
              ? input.webp({ quality: 80, effort: 4 })
              : input.avif({ quality: 50, effort: 2 })
            ).toBuffer(),
          );
          times[format]?.push(ms);
        }
      }
    }
    rows.push({
      box: `${box.width}×${box.height}`,
      pixels: box.width * box.height,
      webpMs: median(times.webp ?? [0]),
      avifMs: median(times.avif ?? [0]),
    });
  }
  return rows;
}

async function main(): Promise<void> {
  await upAws();
  Object.assign(process.env, awsEnv);
  mkdirSync(resultsDir, { recursive: true });
  const photos = await benchPhotos(join(resultsDir, 'photos'));
  const s3 = new S3Client({
    endpoint: awsEnv.AWS_ENDPOINT_URL,
    forcePathStyle: true,
    region: awsEnv.AWS_REGION,
  });
  const bucket = `bench-serve-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const deps = { store: new S3ServedObjectStore(s3, bucket), log: quiet, metrics: noMetrics };
  console.error(`${photos.length} photos × ${sizes.length} sizes × ${rounds} rounds`);

  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const p of photos) {
      const bytes = readFileSync(p.path);
      const relative = `bench/r${round}/${p.name}`;
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `catalog/product/${relative}`, Body: bytes }),
      );
      for (const size of round % 2 === 0 ? sizes : [...sizes].reverse()) {
        const query = `auto=webp&format=pjpg&width=${size.width}&height=${size.height}&fit=cover`;
        const request = {
          method: 'GET',
          rawPath: `/catalog/product/${relative}`,
          rawQuery: query,
          accept: chrome,
        };
        const [, rawMs] = await timed(() =>
          sharp(bytes, { failOn: 'truncated' })
            .rotate()
            .resize(size.width, size.height, { fit: 'outside', withoutEnlargement: true })
            .webp({ quality: 80, effort: 4 })
            .toBuffer(),
        );
        const [miss, missMs] = await timed(() => serveImage(request, settings, deps));
        const [hit, hitMs] = await timed(() => serveImage(request, settings, deps));
        if (miss.status !== 200 || hit.status !== 200)
          throw new Error(`${p.name} ${query}: ${miss.status}/${hit.status}`);
        samples.push({
          photo: p.name,
          size: `${size.width}×${size.height}`,
          round,
          missMs,
          hitMs,
          rawMs,
          miss: timingOf(miss.headers['server-timing']),
          hit: timingOf(hit.headers['server-timing']),
        });
      }
    }
    console.error(`round ${round + 1}/${rounds}: done`);
  }

  const q = (values: number[], p: number) => quantile(values, p);
  const col = (pick: (s: Sample) => number, of: Sample[] = samples) => of.map(pick);
  const s3Miss = (s: Sample) => (s.miss.cache ?? 0) + (s.miss.source ?? 0) + (s.miss.store ?? 0);
  const ratio = (s: Sample) => s.missMs / (s.rawMs + s3Miss(s));
  const row = (label: string, values: number[]) =>
    `| ${label} | ${fmt(q(values, 0.5), 1)} | ${fmt(q(values, 0.95), 1)} |`;
  const bySize = sizes.map((size) => {
    const of = samples.filter((s) => s.size === `${size.width}×${size.height}`);
    return {
      size: `${size.width}×${size.height}`,
      missP50: median(col((s) => s.missMs, of)),
      rawP50: median(col((s) => s.rawMs, of)),
      renderP50: median(col((s) => s.miss.render ?? 0, of)),
      hitP50: median(col((s) => s.hitMs, of)),
      ratio: median(of.map(ratio)),
    };
  });
  const avif = await avifBudget(photos.slice(0, 4).map((p) => p.path));
  const luma = withLumaCache(settings);
  const storefront = await storefrontShares(s3, bucket, luma.settings, deps);
  const lookup = lookupCost(luma.table);
  const sf = storefront.shares;
  const sfTotal = sf.reduce((n, s) => n + s.total, 0);
  const sfServed = sf.reduce((n, s) => n + s.served, 0);

  const lines = [
    `### bench:serve — ${photos.length} real photographs × ${sizes.length} PWA Studio sizes (Venia srcset, 4:5, fit=cover, auto=webp → WebP), ${rounds} rounds, ${samples.length} requests each, S3 on moto`,
    '',
    '| ms | p50 | p95 |',
    '|---|---:|---:|',
    row(
      '**miss** (total)',
      col((s) => s.missMs),
    ),
    row(
      '  · S3 lookup (GET, 404)',
      col((s) => s.miss.cache ?? 0),
    ),
    row(
      '  · S3 GET original',
      col((s) => s.miss.source ?? 0),
    ),
    row(
      '  · inspect + resize + encode',
      col((s) => s.miss.render ?? 0),
    ),
    row(
      '  · S3 PUT variant',
      col((s) => s.miss.store ?? 0),
    ),
    row(
      'raw sharp, same transform (bytes in memory)',
      col((s) => s.rawMs),
    ),
    row(
      '**hit** (total)',
      col((s) => s.hitMs),
    ),
    row(
      '  · S3 GET variant',
      col((s) => s.hit.cache ?? 0),
    ),
    row(
      '  · everything else (parse, negotiate, respond)',
      col((s) => s.hitMs - (s.hit.cache ?? 0)),
    ),
    '',
    `miss ÷ (raw sharp + the miss's own S3 round trips): median ${fmt(median(samples.map(ratio)), 2)}, p95 ${fmt(q(samples.map(ratio), 0.95), 2)} (goal ≤ 1.05). ` +
      `Render ÷ raw sharp: median ${fmt(median(samples.map((s) => (s.miss.render ?? 0) / s.rawMs)), 2)}. ` +
      `Hit: S3 is ${fmt(median(samples.map((s) => (s.hit.cache ?? 0) / s.hitMs)) * 100)} % of the median hit. ` +
      `Peak RSS of the benchmark process: ${fmt(process.resourceUsage().maxRSS / 1024)} MB.`,
    '',
    '| size | miss p50 | render p50 | raw sharp p50 | hit p50 | miss ÷ (raw + S3) |',
    '|---|---:|---:|---:|---:|---:|',
    ...bySize.map(
      (b) =>
        `| ${b.size} | ${fmt(b.missP50, 1)} | ${fmt(b.renderP50, 1)} | ${fmt(b.rawP50, 1)} | ${fmt(b.hitP50, 1)} | ${fmt(b.ratio, 2)} |`,
    ),
    '',
    '| box (encode only, from raw pixels) | WebP q80 ms | AVIF q50 effort 2 ms | AVIF ÷ WebP |',
    '|---|---:|---:|---:|',
    ...avif.map(
      (a) =>
        `| ${a.box} (${fmt(a.pixels / 1000)} k px) | ${fmt(a.webpMs, 1)} | ${fmt(a.avifMs, 1)} | ${fmt(a.avifMs / a.webpMs, 1)} |`,
    ),
  ];
  lines.push(
    '',
    `Storefront URLs served as intended: **${sfServed} of ${sfTotal}** (${fmt((sfServed / sfTotal) * 100, 1)} %; goal 100 %), each distinct URL with a WebP/AVIF and a JPEG-only Accept. ` +
      `Luma view.xml image ids as Magento hash URLs (md5, 2.4.8): **${storefront.lumaIds.served} of ${storefront.lumaIds.total}** at Magento's size. ` +
      `Hash lookup: median ${fmt(lookup.medianNs)} ns, p99 ${fmt(lookup.p99Ns)} ns per lookup (${luma.table.entries.size} hashes; goal p99 ≤ 1 ms).`,
    '',
    '| URL form | served | failures (count × cause) |',
    '|---|---:|---|',
    ...sf.map(
      (s) =>
        `| ${s.form} | ${s.served}/${s.total} | ${
          Object.entries(s.failures)
            .map(([cause, f]) => `${f.count} × ${cause}`)
            .join('; ') || '–'
        } |`,
    ),
    ...storefront.lumaIds.failures.map((f) => `- Luma id not served as Magento renders it: ${f}`),
  );
  const table = lines.join('\n');
  console.log(table);
  writeFileSync(join(resultsDir, 'serve.md'), `${table}\n`);
  writeFileSync(
    join(resultsDir, 'serve.json'),
    JSON.stringify({ bySize, avif, storefront, lookup, samples }, null, 2),
  );
  await writePlot(join(resultsDir, 'serve.svg'), {
    title: 'imageServe: median ms by requested size',
    width: 500,
    height: 300,
    data: {
      values: bySize.flatMap((b) => [
        { size: b.size, kind: 'miss', ms: b.missP50 },
        { size: b.size, kind: 'raw sharp', ms: b.rawP50 },
        { size: b.size, kind: 'hit', ms: b.hitP50 },
      ]),
    },
    mark: 'bar',
    encoding: {
      x: { field: 'size', type: 'nominal', sort: null },
      xOffset: { field: 'kind' },
      y: { field: 'ms', type: 'quantitative' },
      color: { field: 'kind' },
    },
  });
  s3.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
