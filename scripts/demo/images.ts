import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type BenchPhoto, benchPhotos } from '../../bench/lib/photos.ts';
import { type KeyLayout, manifestKey, originalKeyOf, variantFolder } from '../../lib/images/keyLayout.ts';
import type { VariantManifest } from '../../lib/images/variantPipeline.ts';
import { metricNames } from '../../lib/observability/metricNames.ts';
import type { MetricTally } from './emf.ts';
import { s3ObjectCreatedEvent, sequencerAt } from './events.ts';
import type { LambdaHost } from './lambdaHost.ts';

/** Debian's mate-backgrounds puts its photographs here (bench/lib/photos.ts picks the set). */
const probePhoto = '/usr/share/backgrounds/mate/nature/Aqua.jpg';
export const photoPackage = 'mate-backgrounds';

/**
 * Makes sure the product photographs are on the machine: installs Debian's mate-backgrounds with
 * apt-get when running as root (as .ci/run does), otherwise fails naming the package.
 */
export async function ensurePhotos(progress: (line: string) => void): Promise<void> {
  if (existsSync(probePhoto)) return;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall)
    throw new Error(
      `the demo's product photographs are missing (${probePhoto}); install them with: sudo apt-get install ${photoPackage}`,
    );
  const apt = async (args: string[]) => {
    progress(`apt-get ${args.join(' ')}`);
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (l) => progress(l));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return code === 0;
  };
  if (!(await apt(['install', '-y', '--no-install-recommends', photoPackage]))) {
    await apt(['update']);
    if (!(await apt(['install', '-y', '--no-install-recommends', photoPackage])))
      throw new Error(`apt-get install ${photoPackage} failed; install it and run the demo again`);
  }
}

/** The original's media path: Magento's dispersion path, catalog/product/<a>/<b>/<name>. */
export function originalMediaPath(fileName: string, root: string): string {
  const name = fileName.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  return `${root}${name[0] ?? '_'}/${name[1] ?? '_'}/${name}`;
}

export interface OriginalResult {
  readonly name: string;
  readonly key: string;
  readonly megapixels: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly status: string;
}

export interface VariantRow {
  readonly original: string;
  readonly preset: string;
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly bytes: number;
}

export interface ImagesResult {
  readonly originals: readonly OriginalResult[];
  readonly variants: readonly VariantRow[];
  /** What the function's own EMF metrics say (VariantsGenerated, VariantBytes, OriginalBytes). */
  readonly metrics: {
    readonly generated: number;
    readonly variantBytes: number;
    readonly originalBytes: number;
  };
  readonly failures: readonly string[];
}

export interface ImagesStepOptions {
  readonly host: LambdaHost;
  readonly tally: MetricTally;
  readonly bucket: string;
  readonly layout: KeyLayout;
  readonly region: string;
  readonly photoCacheDir: string;
  readonly count: number | undefined;
  readonly progress: (line: string) => void;
  readonly s3?: S3Client;
}

/**
 * Uploads each product photograph as an original, delivers the S3 ObjectCreated notification to
 * imageVariants (moto stores objects but cannot invoke Lambda, so the demo plays S3's part), and
 * reads back every variant's manifest entry for the per-format figures.
 */
export async function runImages(options: ImagesStepOptions): Promise<ImagesResult> {
  const { host, tally, bucket, layout, progress } = options;
  const s3 = options.s3 ?? new S3Client({ forcePathStyle: true });
  const all = await benchPhotos(options.photoCacheDir);
  const photos: BenchPhoto[] = all.slice(0, options.count ?? all.length);
  const since = tally.mark();
  const originals: OriginalResult[] = [];
  const failures: string[] = [];
  const started = Date.now();

  for (const [i, photo] of photos.entries()) {
    const relative = originalMediaPath(photo.name, layout.roots[0] ?? 'catalog/product/');
    const key = originalKeyOf(relative, layout);
    // A re-run starts clean: variants of an earlier run would make imageVariants answer "up-to-date".
    await deleteFolder(s3, bucket, variantFolder(relative, layout));
    const body = readFileSync(photo.path);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'image/jpeg' }),
    );
    const event = s3ObjectCreatedEvent(
      { bucket, key, size: body.length, etag: put.ETag ?? '', sequencer: sequencerAt(Date.now(), i) },
      options.region,
    );
    const invocation = await host.invoke<{ key: string; status: string; detail?: string }[]>(event);
    const status = invocation.error
      ? `error: ${invocation.error.message}`
      : (invocation.result?.[0]?.status ?? 'no result');
    if (status !== 'generated') failures.push(`${photo.name}: ${status}`);
    originals.push({
      name: basename(photo.name),
      key,
      megapixels: photo.megapixels,
      bytes: body.length,
      durationMs: invocation.durationMs,
      status,
    });
    const elapsed = (Date.now() - started) / 1000;
    progress(
      `${i + 1}/${photos.length} ${photo.name} (${photo.megapixels.toFixed(1)} MP, ${mb(body.length)}): ${status} in ${(invocation.durationMs / 1000).toFixed(1)} s — ${tally.total(metricNames.imageVariants.generated, since)} variants so far, ${elapsed.toFixed(0)} s`,
    );
  }

  const variants: VariantRow[] = [];
  for (const original of originals) {
    const relative = original.key.slice(layout.mediaPrefix.length);
    const manifest = await readJson<VariantManifest>(s3, bucket, manifestKey(relative, layout));
    for (const v of manifest?.variants ?? [])
      variants.push({
        original: original.name,
        preset: v.preset,
        width: v.width,
        height: v.height,
        format: v.format,
        bytes: v.bytes,
      });
  }
  const names = metricNames.imageVariants;
  return {
    originals,
    variants,
    metrics: {
      generated: tally.total(names.generated, since),
      variantBytes: tally.total(names.bytes, since),
      originalBytes: tally.total(names.originalBytes, since),
    },
    failures,
  };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function deleteFolder(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const keys = (listed.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
  if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
}

async function readJson<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse((await object.Body?.transformToString('utf8')) ?? '') as T;
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchKey') return undefined;
    throw error;
  }
}
