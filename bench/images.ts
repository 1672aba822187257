/**
 * npm run bench:images — the imageVariants pipeline against its baseline and its lower bound,
 * on real photographs, in one run:
 *   (a) pipeline:  the full function path per original (HEAD, GET, one decode, all presets ×
 *                  formats, 21 PUTs + manifest) against the embedded S3 (moto);
 *   (b) naive:     same GET and PUTs, but the original is decoded again for every variant
 *                  (what per-request resizers do);
 *   (c) in-memory: one decode + every encode, no I/O — the lower bound for (a).
 * Approaches run in separate processes (own peak RSS), interleaved over rounds so machine noise
 * hits all of them alike. `--rounds N` (or BENCH_ROUNDS; default 3), `--avif-effort N` (or
 * BENCH_AVIF_EFFORT), `--help`. Prints a markdown table; writes bench/results/images.{md,json,svg}.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { decodeOriginal } from '../lib/images/decode.ts';
import { defaultImageLimits } from '../lib/images/limits.ts';
import { lumaPresets } from '../lib/images/presets.ts';
import { resizeForPreset } from '../lib/images/render.ts';
import { awsEnv, upAws } from '../scripts/local/aws.ts';
import { benchArgsOrExit, imagesBench } from './lib/args.ts';
import { benchPhotos } from './lib/photos.ts';
import { writePlot } from './lib/plot.ts';
import { fmt, median, spread } from './lib/stats.ts';

// Before anything starts: `--help` and a bad command line end here.
const { rounds, 'avif-effort': avifEffort } = benchArgsOrExit(imagesBench);
const resultsDir = join(import.meta.dirname, 'results');
const approaches = ['pipeline', 'naive', 'in-memory'] as const;
type Approach = (typeof approaches)[number];

function runWorker(approach: Approach, photosFile: string, bucket: string, round: number) {
  return new Promise<{ approach: Approach; timings: { name: string; ms: number }[]; maxRssMb: number }>(
    (resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(import.meta.dirname, 'images-worker.ts'),
          approach,
          photosFile,
          bucket,
          String(round),
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, BENCH_AVIF_EFFORT: String(avifEffort), NODE_NO_WARNINGS: '1' },
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('exit', (code) =>
        code === 0
          ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}'))
          : reject(new Error(`${approach} worker exited ${code}`)),
      );
    },
  );
}

/** AVIF effort: encode time and bytes of all presets, from one decode, per effort level. */
async function avifEfforts(paths: readonly string[]) {
  const rows = [];
  const canvases = [];
  for (const path of paths) {
    const decoded = await decodeOriginal(await sharp(path).toBuffer(), lumaPresets, defaultImageLimits);
    for (const preset of lumaPresets)
      canvases.push({ ...(await resizeForPreset(decoded, preset)), channels: decoded.channels });
  }
  for (const effort of [0, 1, 2, 3, 4, 6]) {
    const times: number[] = [];
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      bytes = 0;
      for (const c of canvases) {
        const out = await sharp(c.pixels, { raw: { ...c.place.canvas, channels: c.channels } })
          .avif({ quality: 50, effort })
          .toBuffer();
        bytes += out.length;
      }
      times.push((performance.now() - t0) / paths.length);
    }
    rows.push({ effort, msPerOriginal: median(times), kbPerOriginal: bytes / paths.length / 1024 });
  }
  return rows;
}

async function main(): Promise<void> {
  // Only the embedded S3 is needed; Kubernetes is not started.
  await upAws();
  const env = awsEnv;
  Object.assign(process.env, env);
  mkdirSync(resultsDir, { recursive: true });
  const photos = await benchPhotos(join(resultsDir, 'photos'));
  const photosFile = join(resultsDir, 'photos.json');
  writeFileSync(photosFile, JSON.stringify(photos));
  const s3 = new S3Client({ endpoint: env.AWS_ENDPOINT_URL, forcePathStyle: true, region: env.AWS_REGION });
  const bucket = `bench-images-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  console.error(
    `${photos.length} photos (${photos.filter((p) => p.megapixels >= 12).length} ≥ 12 MP), ${rounds} rounds, ${approaches.join(' / ')}`,
  );
  const perPhoto = new Map<string, number[]>(); // `${approach}|${photo}` → ms per round
  const rss = new Map<Approach, number>();
  for (let round = 0; round < rounds; round++) {
    for (const approach of round % 2 === 0 ? approaches : [...approaches].reverse()) {
      const result = await runWorker(approach, photosFile, bucket, round);
      rss.set(approach, Math.max(rss.get(approach) ?? 0, result.maxRssMb));
      for (const t of result.timings)
        perPhoto.set(`${approach}|${t.name}`, [...(perPhoto.get(`${approach}|${t.name}`) ?? []), t.ms]);
      console.error(`round ${round + 1}/${rounds} ${approach}: done`);
    }
  }

  // Per photo: median over rounds. Per approach: median over photos of those medians.
  const photoMedian = (a: Approach, name: string) => median(perPhoto.get(`${a}|${name}`) ?? [NaN]);
  const summary = approaches.map((a) => {
    const medians = photos.map((p) => photoMedian(a, p.name));
    const large = photos.filter((p) => p.megapixels >= 12).map((p) => photoMedian(a, p.name));
    const noise = median(photos.map((p) => spread(perPhoto.get(`${a}|${p.name}`) ?? [0])));
    return {
      approach: a,
      medianMs: median(medians),
      largeMedianMs: median(large),
      noise,
      peakRssMb: rss.get(a) ?? 0,
    };
  });
  const by = (a: Approach) => summary.find((s) => s.approach === a) ?? summary[0];
  const [pa, pb, pc] = [by('pipeline'), by('naive'), by('in-memory')];
  const ratios = photos.map((p) => ({
    name: p.name,
    ac: photoMedian('pipeline', p.name) / photoMedian('in-memory', p.name),
    ab: photoMedian('pipeline', p.name) / photoMedian('naive', p.name),
  }));

  const efforts = await avifEfforts(photos.slice(0, 4).map((p) => p.path));

  const lines = [
    `### bench:images — ${photos.length} real photographs (${photos.filter((p) => p.megapixels >= 12).length} ≥ 12 MP), 7 Luma presets × 3 formats = 21 variants each, ${rounds} rounds, AVIF effort ${avifEffort}`,
    '',
    '| approach | median ms / original | median ms, ≥ 12 MP | noise (p90−p10)/median | peak RSS MB |',
    '|---|---:|---:|---:|---:|',
    ...summary.map(
      (s) =>
        `| ${s.approach === 'pipeline' ? '(a) pipeline, S3 on moto' : s.approach === 'naive' ? '(b) naive: decode per variant, S3 on moto' : '(c) in-memory lower bound'} | ${fmt(s.medianMs)} | ${fmt(s.largeMedianMs)} | ${fmt(s.noise * 100)} % | ${fmt(s.peakRssMb)} |`,
    ),
    '',
    `| ratio | of medians | median of per-photo ratios | goal |`,
    '|---|---:|---:|---:|',
    `| a / c | ${fmt((pa?.medianMs ?? 0) / (pc?.medianMs ?? 1), 2)} | ${fmt(median(ratios.map((r) => r.ac)), 2)} | ≤ 1.25 |`,
    `| a / b | ${fmt((pa?.medianMs ?? 0) / (pb?.medianMs ?? 1), 2)} | ${fmt(median(ratios.map((r) => r.ab)), 2)} | ≤ 0.70 |`,
    '',
    '| AVIF effort | ms / original (7 presets, encode only) | KiB / original |',
    '|---:|---:|---:|',
    ...efforts.map((e) => `| ${e.effort} | ${fmt(e.msPerOriginal)} | ${fmt(e.kbPerOriginal, 1)} |`),
  ];
  const table = lines.join('\n');
  console.log(table);
  writeFileSync(join(resultsDir, 'images.md'), `${table}\n`);
  writeFileSync(
    join(resultsDir, 'images.json'),
    JSON.stringify({ summary, ratios, efforts, perPhoto: Object.fromEntries(perPhoto) }, null, 2),
  );
  await writePlot(join(resultsDir, 'images.svg'), {
    title: 'imageVariants: ms per original (median of rounds)',
    width: 600,
    height: 300,
    data: {
      values: photos.flatMap((p) =>
        approaches.map((a) => ({
          photo: `${p.name} (${fmt(p.megapixels, 1)} MP)`,
          approach: a,
          ms: photoMedian(a, p.name),
        })),
      ),
    },
    mark: 'bar',
    encoding: {
      x: { field: 'photo', type: 'nominal', sort: null },
      xOffset: { field: 'approach' },
      y: { field: 'ms', type: 'quantitative' },
      color: { field: 'approach' },
    },
  });
  s3.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
