import type { Log, MetricSink } from '../observability/telemetry.ts';
import { type DecodedImage, decodeOriginal } from './decode.ts';
import type { Placement, Size } from './geometry.ts';
import { type KeyLayout, manifestKey, variantFolder, variantKey } from './keyLayout.ts';
import type { ImageLimits } from './limits.ts';
import { MagentoGeometryError } from './magento/errors.ts';
import type { MagentoImage } from './magento/imageHash.ts';
import { formatInfo, type OutputFormat, type Preset } from './presets.ts';
import {
  type EncodeSettings,
  type MagentoRendition,
  type RenderedVariant,
  renderMagentoVariants,
  renderVariants,
} from './render.ts';
import { UploadQueue } from './uploadQueue.ts';
import {
  manifestOf,
  readManifest,
  staleVariantKeys,
  type VariantManifest,
  type VariantSource,
  variantMetadata,
} from './variantManifest.ts';
import type { VariantStore } from './variantStore.ts';

/** scripts/demo reads manifests through this name. */
export type { VariantManifest } from './variantManifest.ts';

export interface VariantSettings {
  readonly layout: KeyLayout;
  readonly presets: readonly Preset[];
  readonly formats: readonly OutputFormat[];
  /** Formats of Magento's hash sizes; default jpeg and webp (AVIF would more than double the time, see README). */
  readonly magentoFormats?: readonly OutputFormat[] | undefined;
  readonly limits: ImageLimits;
  readonly encode: EncodeSettings;
  /** Uploads in flight at once per original. */
  readonly uploadConcurrency: number;
}

export interface VariantDeps {
  readonly store: VariantStore;
  readonly log: Log;
  readonly metrics: MetricSink;
  /**
   * The shop's Magento `cache/<hash>/` sizes to pre-generate as well, read when first needed (the
   * table of a 2.4.7 shop needs its crypt key, a secret read at run time). Absent: presets only.
   */
  readonly magentoSizes?: (() => Promise<MagentoSizes>) | undefined;
}

/**
 * Magento's hash → image table (lib/images/magento `buildCacheTable(...).entries`) and Magento's own
 * placement (`magentoPlacement`). Each distinct hash is stored as `cache.<hash>.<ext>` in the
 * original's variant folder, the name imageServe answers a `cache/<hash>/` URL from.
 */
export interface MagentoSizes {
  readonly entries: ReadonlyMap<string, MagentoImage>;
  /** Where Magento puts a source of this size; throws MagentoGeometryError when it writes no file. */
  place(source: Size, image: MagentoImage): Placement;
}

const defaultMagentoFormats: readonly OutputFormat[] = ['jpeg', 'webp'];

/** The variant name (without extension) of a Magento hash: transform.ts's `transformId` of `{ kind: 'magento', hash }`. */
const magentoVariantName = (hash: string): string => `cache.${hash}`;

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
  const { store } = deps;
  // One round trip instead of three: the manifest is read while the original downloads. A duplicate
  // event then wastes one download, which is cheaper than a HEAD on every first event.
  const manifestAt = manifestKey(relative, settings.layout);
  const [original, previous] = await Promise.all([
    store.getOriginal(key, settings.limits),
    readManifest(store, manifestAt),
  ]);
  if (original === undefined) return { kind: 'skipped', reason: 'original-gone' };
  if (previous?.sourceEtag === original.etag) return { kind: 'skipped', reason: 'up-to-date' };

  const source: VariantSource = { key, relative, etag: original.etag, sequencer };
  const magento = deps.magentoSizes === undefined ? undefined : await deps.magentoSizes();
  const boxes = [...settings.presets, ...(magento === undefined ? [] : magentoBoxes(magento))];
  const decoded = await decodeOriginal(original.body, boxes, settings.limits);
  const renditions = magento === undefined ? [] : magentoRenditions(magento, decoded.sourceSize);
  const variants = await writeVariants(decoded, renditions, source, settings, deps);
  const manifest = manifestOf(source, variants, settings.layout, new Date());
  await store.put({
    key: manifestAt,
    body: JSON.stringify(manifest),
    contentType: 'application/json',
    cacheControl: 'no-cache',
    metadata: variantMetadata(source),
  });

  // A removal processed while we were writing would have found nothing yet to delete.
  if ((await store.head(key)) === undefined) {
    await store.delete(await store.list(variantFolder(relative, settings.layout)));
    return { kind: 'skipped', reason: 'removed-during-generation' };
  }
  if (previous !== undefined) await deleteStaleVariants(manifest, manifestAt, relative, settings, store);
  const bytes = variants.reduce((sum, v) => sum + v.body.length, 0);
  return { kind: 'generated', variants: variants.length, bytes, sourceBytes: original.size };
}

/**
 * Renders and uploads every variant, each upload starting as soon as its variant is encoded. On any
 * failure the uploads that started are awaited and what they wrote is deleted again, so a failed
 * attempt leaves no half set behind (the manifest is written only after this returns).
 */
async function writeVariants(
  decoded: DecodedImage,
  renditions: readonly MagentoRendition[],
  source: VariantSource,
  settings: VariantSettings,
  deps: VariantDeps,
): Promise<RenderedVariant[]> {
  const metadata = variantMetadata(source);
  const written: string[] = [];
  const uploads = new UploadQueue(settings.uploadConcurrency);
  const upload = (variant: RenderedVariant): void => {
    const target = variantKey(source.relative, variant.preset, variant.format, settings.layout);
    uploads.add(async () => {
      await deps.store.put({
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
  try {
    const [presets, magento] = await Promise.all([
      renderVariants(decoded, settings.presets, settings.formats, settings.encode, upload),
      renderMagentoVariants(
        decoded,
        renditions,
        settings.magentoFormats ?? defaultMagentoFormats,
        settings.encode,
        upload,
      ),
    ]);
    await uploads.drain();
    return [...presets, ...magento];
  } catch (error) {
    await uploads.settle();
    await deleteQuietly(deps.store, written, deps.log);
    throw error;
  }
}

/**
 * Magento's sized images (a size-less one is the original itself re-encoded: imageServe renders it
 * on demand rather than every original being decoded at full size), without watermarks (not rendered).
 */
const pregenerated = (image: MagentoImage): image is MagentoImage & Size =>
  image.width !== undefined && image.height !== undefined && image.watermark === undefined;

/** The boxes the shared decode must be large enough for. */
function magentoBoxes(magento: MagentoSizes): Size[] {
  return [...magento.entries.values()].filter(pregenerated).map(({ width, height }) => ({ width, height }));
}

/**
 * One rendition per distinct picture: hashes that name the same parameters (two algorithms, two
 * crypt keys) share it. A size Magento itself cannot render for this source is left out, as Magento
 * writes no file for it either.
 */
function magentoRenditions(magento: MagentoSizes, sourceSize: Size): MagentoRendition[] {
  const byPicture = new Map<string, MagentoRendition & { names: string[] }>();
  for (const [hash, image] of magento.entries) {
    if (!pregenerated(image)) continue;
    let place: Placement;
    try {
      place = magento.place(sourceSize, image);
    } catch (error) {
      if (error instanceof MagentoGeometryError) continue;
      throw error;
    }
    const rendition = {
      names: [] as string[],
      place,
      background: image.background,
      keepTransparency: image.keepTransparency,
      quality: image.quality,
    };
    const id = JSON.stringify({ ...rendition, names: undefined });
    const shared = byPicture.get(id) ?? rendition;
    shared.names.push(magentoVariantName(hash));
    byPicture.set(id, shared);
  }
  return [...byPicture.values()];
}

/** Variants of an earlier version of this original (other presets, on-the-fly sizes) are stale now. */
async function deleteStaleVariants(
  manifest: VariantManifest,
  manifestAt: string,
  relative: string,
  settings: VariantSettings,
  store: VariantStore,
): Promise<void> {
  const listed = await store.list(variantFolder(relative, settings.layout));
  const stale = staleVariantKeys(listed, manifest, manifestAt);
  if (stale.length > 0) await store.delete(stale);
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

async function deleteQuietly(store: VariantStore, keys: readonly string[], log: Log): Promise<void> {
  if (keys.length === 0) return;
  try {
    await store.delete(keys);
  } catch (error) {
    log.warn('could not clean up partially written variants', { keys: keys.length, error: String(error) });
  }
}
