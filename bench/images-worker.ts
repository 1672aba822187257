/**
 * One approach of bench/images.ts over every photo, in its own process so that its peak RSS is
 * its own. Prints one JSON line: per-photo milliseconds and the process's max RSS.
 */
import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { decodeOriginal } from '../lib/images/decode.ts';
import { placement } from '../lib/images/geometry.ts';
import { variantKey } from '../lib/images/keyLayout.ts';
import { defaultImageLimits } from '../lib/images/limits.ts';
import { formatInfo, lumaPresets, type OutputFormat, outputFormats } from '../lib/images/presets.ts';
import { defaultEncodeSettings, type EncodeSettings, renderVariants } from '../lib/images/render.ts';
import {
  createVariants,
  immutableCacheControl,
  type VariantSettings,
} from '../lib/images/variantPipeline.ts';
import { S3VariantStore } from '../lib/images/variantStore.ts';
import type { BenchPhoto } from './lib/photos.ts';

type Approach = 'pipeline' | 'naive' | 'in-memory';
const [approach, photosFile, bucket, round] = process.argv.slice(2) as [Approach, string, string, string];
const photos = JSON.parse(readFileSync(photosFile, 'utf8')) as BenchPhoto[];
const encode: EncodeSettings = {
  ...defaultEncodeSettings,
  avifEffort: Number(process.env.BENCH_AVIF_EFFORT ?? defaultEncodeSettings.avifEffort),
};
const settings: VariantSettings = {
  layout: { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' },
  presets: lumaPresets,
  formats: outputFormats,
  limits: defaultImageLimits,
  encode,
  uploadConcurrency: 8,
};
const s3 = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true });
const store = new S3VariantStore(s3, bucket);
const quiet = {
  log: { debug() {}, info() {}, warn() {}, error() {} },
  metrics: { count() {}, milliseconds() {}, bytes() {} },
};
const white = { r: 255, g: 255, b: 255, alpha: 1 };

/** What a per-request resizer does for each variant: decode the original again, resize, encode. */
async function naiveVariant(
  bytes: Buffer,
  preset: (typeof lumaPresets)[number],
  format: OutputFormat,
): Promise<Buffer> {
  const meta = await sharp(bytes, { autoOrient: true }).metadata();
  const shown = meta.autoOrient ?? { width: meta.width ?? 0, height: meta.height ?? 0 };
  const place = placement(shown, preset, preset.fit);
  let p = sharp(bytes, { autoOrient: true, failOn: 'truncated' })
    .resize(place.content.width, place.content.height, { fit: 'fill' })
    .toColourspace('srgb');
  if (preset.fit === 'frame') {
    p = p.extend({
      left: place.left,
      top: place.top,
      right: place.canvas.width - place.content.width - place.left,
      bottom: place.canvas.height - place.content.height - place.top,
      background: meta.hasAlpha ? { ...white, alpha: 0 } : white,
    });
  }
  if (format === 'jpeg')
    return p
      .flatten({ background: white })
      .jpeg({ quality: encode.jpegQuality, progressive: true })
      .toBuffer();
  if (format === 'webp') return p.webp({ quality: encode.webpQuality, effort: 4 }).toBuffer();
  return p.avif({ quality: encode.avifQuality, effort: encode.avifEffort }).toBuffer();
}

async function runOne(photo: BenchPhoto): Promise<number> {
  const key = `catalog/product/r${round}/${photo.name}`;
  const relative = key.slice('catalog/product/'.length);
  if (approach !== 'in-memory') {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(photo.path) }));
  }
  const bytes = readFileSync(photo.path);
  const t0 = performance.now();
  if (approach === 'pipeline') {
    const outcome = await createVariants(key, relative, undefined, settings, { store, ...quiet });
    if (outcome.kind !== 'generated') throw new Error(`${photo.name}: ${outcome.kind}`);
  } else if (approach === 'naive') {
    const original = await store.get(key);
    if (!original) throw new Error(`${key} missing`);
    // Same uploads as the pipeline (8 in flight), but one decode per variant.
    const jobs = lumaPresets.flatMap((preset) => outputFormats.map((format) => ({ preset, format })));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++];
          if (!job) break;
          const body = await naiveVariant(original.body, job.preset, job.format);
          await store.put({
            key: variantKey(relative, job.preset.name, job.format, settings.layout),
            body,
            contentType: formatInfo[job.format].contentType,
            cacheControl: immutableCacheControl,
            metadata: {},
          });
        }
      }),
    );
  } else {
    const decoded = await decodeOriginal(bytes, lumaPresets, defaultImageLimits);
    await renderVariants(decoded, lumaPresets, outputFormats, encode);
  }
  return performance.now() - t0;
}

const timings: { name: string; ms: number }[] = [];
// One untimed warm-up so library loading and first-call JIT are not charged to the first photo.
await runOne({ ...(photos[0] as BenchPhoto), name: `warmup-${photos[0]?.name}` });
for (const photo of photos) timings.push({ name: photo.name, ms: await runOne(photo) });
process.stdout.write(
  `${JSON.stringify({ approach, timings, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
s3.destroy();
