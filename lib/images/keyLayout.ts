import { formatInfo, type OutputFormat } from './presets.ts';

/** Where originals live and where their variants go, inside one media bucket. */
export interface KeyLayout {
  /** e.g. `catalog/product/` — Magento's media path for product images. */
  readonly originalsPrefix: string;
  /** e.g. `derived/catalog/product/` — never inside what imageVariants reads back as originals. */
  readonly derivedPrefix: string;
}

export type KeyClass =
  | { readonly kind: 'original'; readonly relative: string }
  | { readonly kind: 'derived' }
  | { readonly kind: 'folder' }
  | { readonly kind: 'outside' };

/**
 * Classifies an object key. Derived keys are checked first so a derived prefix nested inside the
 * originals prefix can never trigger generation from generated output (no recursion).
 */
export function classifyKey(key: string, layout: KeyLayout): KeyClass {
  if (key.startsWith(layout.derivedPrefix)) return { kind: 'derived' };
  if (!key.startsWith(layout.originalsPrefix)) return { kind: 'outside' };
  const relative = key.slice(layout.originalsPrefix.length);
  if (relative === '' || key.endsWith('/')) return { kind: 'folder' };
  return { kind: 'original', relative };
}

/**
 * All variants of one original share one folder: `<derivedPrefix><relative>/`. Listing that
 * folder with a `/` delimiter finds exactly this original's variants, so removal needs no
 * knowledge of which presets existed when they were made.
 */
export const variantFolder = (relative: string, layout: KeyLayout): string =>
  `${layout.derivedPrefix}${relative}/`;

/** @example variantKey('s/h/shoe.jpg', 'category', 'webp', layout) // 'derived/catalog/product/s/h/shoe.jpg/category.webp' */
export const variantKey = (
  relative: string,
  preset: string,
  format: OutputFormat,
  layout: KeyLayout,
): string => `${variantFolder(relative, layout)}${preset}.${formatInfo[format].extension}`;

/** Written last, after every variant: its presence with the source ETag means the set is complete. */
export const manifestKey = (relative: string, layout: KeyLayout): string =>
  `${variantFolder(relative, layout)}manifest.json`;

/**
 * Decodes an S3 event key: event keys are URL form-encoded, so `+` is a space and `%2B` a plus.
 * Throws on malformed percent-encoding.
 */
export const decodeEventKey = (encoded: string): string => decodeURIComponent(encoded.replaceAll('+', ' '));

/** S3 user metadata must be ASCII: non-ASCII keys are percent-encoded there. */
export const metadataSafe = (value: string): string => encodeURIComponent(value);
