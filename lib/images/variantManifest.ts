import { type KeyLayout, metadataSafe, variantKey } from './keyLayout.ts';
import type { OutputFormat } from './presets.ts';
import type { RenderedVariant } from './render.ts';
import type { VariantStore } from './variantStore.ts';

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

/** The original a variant set is made from: its key, its folder-relative path and its version. */
export interface VariantSource {
  readonly key: string;
  readonly relative: string;
  readonly etag: string;
  /** The S3 event's sequencer, when the event carried one. */
  readonly sequencer: string | undefined;
}

/**
 * The S3 user metadata every variant and the manifest carry: which original, which version.
 *
 * @example variantMetadata({ key: 'catalog/product/s/h/shoe.jpg', relative: 's/h/shoe.jpg', etag: '"abc"', sequencer: undefined })
 */
export function variantMetadata(source: VariantSource): Record<string, string> {
  return {
    'source-key': metadataSafe(source.key),
    'source-etag': source.etag,
    ...(source.sequencer ? { 'source-sequencer': source.sequencer } : {}),
  };
}

/** The manifest of a complete variant set. */
export function manifestOf(
  source: VariantSource,
  variants: readonly RenderedVariant[],
  layout: KeyLayout,
  generatedAt: Date,
): VariantManifest {
  return {
    sourceKey: source.key,
    sourceEtag: source.etag,
    sequencer: source.sequencer,
    generatedAt: generatedAt.toISOString(),
    variants: variants.map((v) => ({
      key: variantKey(source.relative, v.preset, v.format, layout),
      preset: v.preset,
      format: v.format,
      width: v.width,
      height: v.height,
      bytes: v.body.length,
    })),
  };
}

/**
 * The keys of a variant folder that a new manifest no longer lists: variants of an earlier version
 * of the original (other presets, on-the-fly sizes). The manifest itself is never stale.
 */
export function staleVariantKeys(
  listed: readonly string[],
  manifest: VariantManifest,
  manifestAt: string,
): string[] {
  const current = new Set([...manifest.variants.map((v) => v.key), manifestAt]);
  return listed.filter((key) => !current.has(key));
}

/** The manifest at `key`; undefined when absent or unreadable. */
export async function readManifest(store: VariantStore, key: string): Promise<VariantManifest | undefined> {
  const object = await store.get(key);
  if (object === undefined) return undefined;
  try {
    return JSON.parse(object.body.toString('utf8')) as VariantManifest;
  } catch {
    // An unreadable manifest only means "not known to be up to date": regenerate.
    return undefined;
  }
}
