import { formatInfo, type OutputFormat } from './presets.ts';

/**
 * Where originals live and where their variants go, inside one media bucket. An original's key is
 * `mediaPrefix` + its media path (`catalog/product/m/b/mb01.jpg`, the path Magento's media URLs
 * carry after `/media/`); its variants live in `derivedPrefix` + media path + `/`.
 *
 * The keys Magento writes (Magento_RemoteStorage + Magento_AwsS3, 2.4.2+; magento/magento2):
 * - `AwsS3/Driver/AwsS3Factory.php` builds `new AwsS3V3Adapter($client, $bucket, $prefix)` with the
 *   deployment's `remote_storage/prefix` (`setup:config:set --remote-storage-prefix`); Flysystem's
 *   `PathPrefixer` trims trailing slashes and appends one `/` to a non-empty prefix, so `shop` and
 *   `shop/` are the same prefix and `''` is the bucket root.
 * - `RemoteStorage/Filesystem.php` roots each directory code at its URI path; the media directory's is
 *   `media` (what `pub/index.php` sets, and what Magento's own S3 test `AwsS3/Test/Mftf/Test/
 *   AdminAwsS3SyncMediaFilesTest.xml` asserts: `media/catalog/product/<c1>/<c2>/<name>` and
 *   `media/catalog/product/cache/…`).
 * So the media directory is `<prefix>/media/` (`media/` without a prefix): that is `mediaPrefix`.
 * Inside it (media paths): product images `catalog/product/<c1>/<c2>/<name>` (dispersion: the name's
 * first two characters; `Catalog/Model/Product/Media/Config.php`), uploaded first to
 * `tmp/catalog/product/…` and moved (S3 copy + delete: an `ObjectCreated:Copy` event) on save;
 * Magento's resized copies `catalog/product/cache/<hash>/<c1>/<c2>/<name>`; category images
 * `catalog/category/<name>` (tmp: `catalog/tmp/category/`); swatches `attribute/swatch/<c1>/<c2>/<name>`
 * with Magento's resized copies in `attribute/swatch/swatch_image/<w>x<h>/…` and `swatch_thumb/…`
 * (`Swatches/Helper/Media.php`); CMS images `wysiwyg/…`. Import/export files are outside the media
 * directory (`<prefix>/import_export/…`, `<prefix>/var/import/images/…`).
 */
export interface KeyLayout {
  /** Key prefix of Magento's media directory in the bucket (`''`: media paths are keys). */
  readonly mediaPrefix: string;
  /** Media-relative folders whose images are originals, each ending in `/`: `catalog/product/` first. */
  readonly roots: readonly string[];
  /** e.g. `derived/` — never inside what imageVariants reads back as originals. */
  readonly derivedPrefix: string;
}

export type KeyClass =
  | { readonly kind: 'original'; readonly relative: string }
  /** Under a root but in a folder of Magento's own resized copies ({@link magentoGeneratedFolders}). */
  | { readonly kind: 'magento-cache' }
  | { readonly kind: 'derived' }
  | { readonly kind: 'folder' }
  | { readonly kind: 'outside' };

/**
 * Classifies an object key. Derived keys are checked first so a derived prefix nested inside the
 * originals prefix can never trigger generation from generated output (no recursion).
 */
export function classifyKey(key: string, layout: KeyLayout): KeyClass {
  if (key.startsWith(layout.derivedPrefix)) return { kind: 'derived' };
  if (!key.startsWith(layout.mediaPrefix)) return { kind: 'outside' };
  const relative = key.slice(layout.mediaPrefix.length);
  const root = rootOf(relative, layout);
  if (root === undefined) return { kind: 'outside' };
  if (relative === root || key.endsWith('/')) return { kind: 'folder' };
  if (magentoGeneratedFolders.some((folder) => relative.startsWith(folder))) return { kind: 'magento-cache' };
  return { kind: 'original', relative };
}

/**
 * Media folders Magento fills itself with resized copies of originals (see {@link KeyLayout}): under a
 * root, but never originals, so they never trigger generation and are never served as a source.
 */
const magentoGeneratedFolders: readonly string[] = [
  'catalog/product/cache/',
  'attribute/swatch/swatch_image/',
  'attribute/swatch/swatch_thumb/',
];

/** The root a media path lies under, if any. */
export const rootOf = (mediaPath: string, layout: KeyLayout): string | undefined =>
  layout.roots.find((root) => mediaPath.startsWith(root));

/** The bucket key of an original named by its media path. */
export const originalKeyOf = (mediaPath: string, layout: KeyLayout): string =>
  `${layout.mediaPrefix}${mediaPath}`;

/**
 * All variants of one original share one folder: `<derivedPrefix><relative>/`. Listing that
 * folder with a `/` delimiter finds exactly this original's variants, so removal needs no
 * knowledge of which presets existed when they were made.
 */
export const variantFolder = (relative: string, layout: KeyLayout): string =>
  `${layout.derivedPrefix}${relative}/`;

/** @example variantKey('catalog/product/s/h/shoe.jpg', 'category', 'webp', layout) // 'derived/catalog/product/s/h/shoe.jpg/category.webp' */
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
