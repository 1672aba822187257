import type { Log, MetricSink } from '../observability/telemetry.ts';
import { decodeOriginal } from './decode.ts';
import { ImageRejectedError } from './errors.ts';
import { type KeyLayout, manifestKey, metadataSafe, variantFolder, variantKey } from './keyLayout.ts';
import type { ImageLimits } from './limits.ts';
import { formatInfo, type OutputFormat, type Preset } from './presets.ts';
import { type EncodeSettings, type RenderedVariant, renderVariants } from './render.ts';
import type { VariantStore } from './variantStore.ts';

export interface VariantSettings {
  readonly layout: KeyLayout;
  readonly presets: readonly Preset[];
  readonly formats: readonly OutputFormat[];
  readonly limits: ImageLimits;
  readonly encode: EncodeSettings;
  /** Uploads in flight at once per original. */
  readonly uploadConcurrency: number;
}

export interface VariantDeps {
  readonly store: VariantStore;
  readonly log: Log;
  readonly metrics: MetricSink;
}

/** What the manifest records: which source bytes (ETag) this variant set was made from. */
export interface VariantManifest {
  readonly sourceKey: string;
  readonly sourceEtag: string;
  readonly sequencer?: string | undefined;
  readonly generatedAt: string;
  readonly variants: readonly {
    key: string;
    preset: string;
    format: OutputFormat;
    width: number;
    height: number;
    bytes: number;
  }[];
}

export type CreateOutcome =
  | {
      readonly kind: 'generated';
      readonly variants: number;
      readonly bytes: number;
      readonly sourceBytes: number;
    }
  | {
      readonly kind: 'skipped';
      readonly reason: 'original-gone' | 'up-to-date' | 'removed-during-generation';
    };

export type RemoveOutcome =
  | { readonly kind: 'removed'; readonly deleted: number }
  | { readonly kind: 'skipped'; readonly reason: 'original-exists' };

/** Variants are content-addressed by their source ETag (in metadata and manifest), so they never change in place. */
export const immutableCacheControl = 'public, max-age=31536000, immutable';

/**
 * Generates every preset × format of one original from a single decode and writes them to the
 * original's variant folder, then the manifest.
 *
 * Idempotent: a manifest carrying the original's current ETag means the work is done. An
 * original that no longer exists is skipped, and one removed while its variants were being
 * written has them deleted again, so a late or duplicate ObjectCreated never resurrects variants.
 * Invalid images throw {@link ImageRejectedError} before anything is written.
 */
export async function createVariants(
  key: string,
  relative: string,
  sequencer: string | undefined,
  settings: VariantSettings,
  deps: VariantDeps,
): Promise<CreateOutcome> {
  const { store, log } = deps;
  // One round trip instead of three: the manifest is read while the original downloads. A duplicate
  // event then wastes one download, which is cheaper than a HEAD on every first event.
  const manifestAt = manifestKey(relative, settings.layout);
  const [original, previous] = await Promise.all([
    store.getOriginal(key, settings.limits),
    readManifest(store, manifestAt),
  ]);
  if (original === undefined) return { kind: 'skipped', reason: 'original-gone' };
  if (previous?.sourceEtag === original.etag) return { kind: 'skipped', reason: 'up-to-date' };

  const decoded = await decodeOriginal(original.body, settings.presets, settings.limits);
  const metadata = {
    'source-key': metadataSafe(key),
    'source-etag': original.etag,
    ...(sequencer ? { 'source-sequencer': sequencer } : {}),
  };

  const written: string[] = [];
  const uploads = new UploadQueue(settings.uploadConcurrency);
  const upload = (variant: RenderedVariant): void => {
    const target = variantKey(relative, variant.preset, variant.format, settings.layout);
    uploads.add(async () => {
      await store.put({
        key: target,
        body: variant.body,
        contentType: formatInfo[variant.format].contentType,
        cacheControl: immutableCacheControl,
        metadata: {
          ...metadata,
          preset: variant.preset,
          width: String(variant.width),
          height: String(variant.height),
        },
      });
      written.push(target);
    });
  };

  let variants: RenderedVariant[];
  try {
    variants = await renderVariants(decoded, settings.presets, settings.formats, settings.encode, upload);
    await uploads.drain();
  } catch (error) {
    await uploads.settle();
    await deleteQuietly(store, written, log);
    throw error;
  }

  const manifest: VariantManifest = {
    sourceKey: key,
    sourceEtag: original.etag,
    sequencer,
    generatedAt: new Date().toISOString(),
    variants: variants.map((v) => ({
      key: variantKey(relative, v.preset, v.format, settings.layout),
      preset: v.preset,
      format: v.format,
      width: v.width,
      height: v.height,
      bytes: v.body.length,
    })),
  };
  await store.put({
    key: manifestAt,
    body: JSON.stringify(manifest),
    contentType: 'application/json',
    cacheControl: 'no-cache',
    metadata,
  });

  // A removal processed while we were writing would have found nothing yet to delete.
  if ((await store.head(key)) === undefined) {
    await store.delete(await store.list(variantFolder(relative, settings.layout)));
    return { kind: 'skipped', reason: 'removed-during-generation' };
  }
  // Variants of an earlier version of this original (other presets, on-the-fly sizes) are stale now.
  if (previous !== undefined) {
    const current = new Set([...manifest.variants.map((v) => v.key), manifestAt]);
    const stale = (await store.list(variantFolder(relative, settings.layout))).filter((k) => !current.has(k));
    if (stale.length > 0) await store.delete(stale);
  }
  const bytes = variants.reduce((sum, v) => sum + v.body.length, 0);
  return { kind: 'generated', variants: variants.length, bytes, sourceBytes: original.size };
}

/**
 * Deletes every variant of a removed original. If the original exists again (a newer upload
 * overtook this event), its variants are current and are kept.
 */
export async function removeVariants(
  key: string,
  relative: string,
  settings: VariantSettings,
  deps: VariantDeps,
): Promise<RemoveOutcome> {
  if ((await deps.store.head(key)) !== undefined) return { kind: 'skipped', reason: 'original-exists' };
  const keys = await deps.store.list(variantFolder(relative, settings.layout));
  if (keys.length > 0) await deps.store.delete(keys);
  return { kind: 'removed', deleted: keys.length };
}

async function readManifest(store: VariantStore, key: string): Promise<VariantManifest | undefined> {
  const object = await store.get(key);
  if (object === undefined) return undefined;
  try {
    return JSON.parse(object.body.toString('utf8')) as VariantManifest;
  } catch {
    // An unreadable manifest only means "not known to be up to date": regenerate.
    return undefined;
  }
}

async function deleteQuietly(store: VariantStore, keys: readonly string[], log: Log): Promise<void> {
  if (keys.length === 0) return;
  try {
    await store.delete(keys);
  } catch (error) {
    log.warn('could not clean up partially written variants', { keys: keys.length, error: String(error) });
  }
}

/** Runs async jobs with bounded concurrency; the first failure is rethrown by {@link drain}. */
class UploadQueue {
  private readonly running = new Set<Promise<void>>();
  private readonly pending: (() => Promise<void>)[] = [];
  private failure: unknown;

  constructor(private readonly limit: number) {}

  add(job: () => Promise<void>): void {
    this.pending.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.limit && this.pending.length > 0 && this.failure === undefined) {
      const job = this.pending.shift();
      if (job === undefined) break;
      const run: Promise<void> = job()
        .catch((error: unknown) => {
          this.failure ??= error;
        })
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  async settle(): Promise<void> {
    this.pending.length = 0;
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0 || (this.pending.length > 0 && this.failure === undefined)) {
      await Promise.all([...this.running]);
    }
    if (this.failure !== undefined) throw this.failure;
  }
}

export { ImageRejectedError };
