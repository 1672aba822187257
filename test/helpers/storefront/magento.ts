import type { CorpusUrl, Format, ImageIntent } from './intent.ts';

/**
 * The product image URLs Magento 2.4 itself emits, by `catalog/media_url_format` and with Magento's
 * Fastly module, each rule pinned to the source it reproduces:
 *
 * - hash (the default): `<media>/catalog/product/cache/<md5 of the image's params>/m/b/mb01.jpg` —
 *   magento/magento2 app/code/Magento/Catalog/Model/View/Asset/Image.php `getUrl()`/`getImageInfo()`
 *   (read at justuno-com/test-2.4.7-p1@514d51ce7a8663693cce365bd0692c8ce324f577
 *   vendor/magento/module-catalog/Model/View/Asset/Image.php, a 2.4.7-p1 tree).
 * - image_optimization_parameters: `<media>/catalog/product/m/b/mb01.jpg?` +
 *   `http_build_query(['width' =>, 'height' =>, 'store' => <store code>, 'image-type' => <type>])` — same
 *   file, `getUrlWithTransformationParameters()`; PHP's http_build_query drops null values, so a size
 *   view.xml leaves out (and GraphQL's size-less images) is absent, never empty.
 * - the sizes: ParamsBuilder (magento/magento2@1c820bef8e6c793b3fb3e8dcfa996bef60dd7c1f
 *   app/code/Magento/Catalog/Model/Product/Image/ParamsBuilder.php) takes width/height from the theme's
 *   view.xml (Luma's ids: magento/magento2@008ec6325eac900143ecb42173bc1ad6a0b0500e
 *   app/design/frontend/Magento/luma/etc/view.xml; 2.4.8's sizes as in the hash vectors). Magento keeps the aspect ratio and never enlarges
 *   (Fastly's `fit=bounds`); with `keep_frame` (`product_image_white_borders` 1, what 2.4's Luma sets —
 *   test/fixtures/images/magento-image-hash was produced with it) its copy is exactly the box, the
 *   picture centred on the background colour.
 * - store codes: `/^[a-z]+[a-z0-9_]*$/i` (magento/magento2@16411434e41f055c93ab2957d60b1e3eb8fcceca
 *   app/code/Magento/Store/Model/Validation/StoreCodeValidator.php), at most 32 characters (the
 *   `store.code` varchar(32) of app/code/Magento/Store/etc/db_schema.xml).
 * - GraphQL `small_image.url`/`thumbnail.url`/`media_gallery.url`: Magento\Catalog\Model\Product\Image
 *   with only the image type set (magento/magento2@2deacb2660bf74fc3f0fb0e281a5ce7bc9700168
 *   app/code/Magento/CatalogGraphQl/Model/Resolver/Product/MediaGallery/Url.php): no width or height.
 */

/** One image of a theme's view.xml. */
export interface MagentoImageSize {
  readonly id: string;
  /** `image`, `small_image`, `thumbnail`, `swatch_image`, … */
  readonly type: string;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  /** Magento's `keep_frame`: the resized copy is padded to exactly width × height. */
  readonly keepFrame?: boolean | undefined;
}

/**
 * Luma 2.4.8's effective view.xml (Blank merged under Luma; the ids and sizes of
 * test/fixtures/images/magento-image-hash/vectors.json), one image per distinct size, plus the
 * size-less `product_page_image_large`. Every sized one is framed (`product_image_white_borders` 1).
 */
export const lumaImageSizes: readonly MagentoImageSize[] = [
  { id: 'category_page_grid', type: 'small_image', width: 240, height: 300, keepFrame: true },
  { id: 'cart_page_product_thumbnail', type: 'small_image', width: 165, height: 165, keepFrame: true },
  { id: 'product_base_image', type: 'image', width: 265, height: 265, keepFrame: true },
  { id: 'product_page_image_medium', type: 'image', width: 700, height: 700, keepFrame: true },
  { id: 'product_page_main_image', type: 'image', width: 700, height: 560, keepFrame: true },
  { id: 'product_page_image_small', type: 'thumbnail', width: 88, height: 110, keepFrame: true },
  { id: 'mini_cart_product_thumbnail', type: 'thumbnail', width: 150, height: 150, keepFrame: true },
  { id: 'new_products_content_widget_list', type: 'small_image', width: 270, height: 340, keepFrame: true },
  { id: 'related_products_list', type: 'small_image', width: 152, height: 190, keepFrame: true },
  { id: 'product_page_image_large', type: 'image', keepFrame: true },
];

/**
 * Store codes Magento accepts, at the edges of its grammar: lowercase, mixed case, digits and
 * underscores, one letter, 32 characters.
 */
export const storeCodes: readonly string[] = ['default', 'en_US', 'Store2', 'b', `s${'x'.repeat(30)}9`];

/**
 * The hash of one image's parameters (`cache/<hash>/`), from Magento's own rule
 * (lib/images/magento's table once it lands); `undefined` when the table has no entry.
 */
export type CacheHashLookup = (image: MagentoImageSize) => string | undefined;

const negotiated = (original: string): Format => ({
  kind: 'negotiate',
  fallback: /\.png$/i.test(original) ? 'png' : 'jpeg',
});

const boundsIntent = (original: string, image: MagentoImageSize): ImageIntent => ({
  original,
  width: image.width,
  height: image.height,
  fit: 'bounds',
  format: negotiated(original),
});

/** Magento's own resized copy: fitted inside, framed to exactly the box when `keep_frame`. */
const cacheIntent = (original: string, image: MagentoImageSize): ImageIntent => {
  const { width, height } = image;
  const framed = image.keepFrame === true && width !== undefined && height !== undefined;
  return {
    ...boundsIntent(original, image),
    ...(framed ? { canvas: { kind: 'exact', width, height } } : {}),
  };
};

/** `catalog/product/m/b/mb01.jpg` → `m/b/mb01.jpg`. */
const productFile = (original: string): string => {
  if (!original.startsWith('catalog/product/')) throw new Error(`not a product image: ${original}`);
  return original.slice('catalog/product/'.length);
};

/**
 * Hash-form URLs (`catalog_media_url_format` = hash) for every original × view.xml image the lookup
 * knows. The URL names Magento's resized copy; its intent is that copy: the original fitted into the
 * view.xml box (framed to it with `keepFrame`). The format may be negotiated by whatever serves it (the file's own type otherwise).
 *
 * @example magentoHashUrls('https://shop.example.com/media/', ['catalog/product/m/b/mb01.jpg'], lumaImageSizes, lookup)
 */
export function magentoHashUrls(
  mediaBase: string,
  originals: readonly string[],
  sizes: readonly MagentoImageSize[],
  hashOf: CacheHashLookup,
): CorpusUrl[] {
  const out: CorpusUrl[] = [];
  for (const original of originals) {
    for (const image of sizes) {
      const hash = hashOf(image);
      if (hash === undefined) continue;
      out.push({
        url: `${mediaBase}catalog/product/cache/${hash}/${productFile(original)}`,
        form: 'magento/hash',
        source: `Magento View/Asset/Image.php getImageInfo(), view.xml ${image.id}`,
        intent: cacheIntent(original, image),
      });
    }
  }
  return out;
}

/** The query Magento's image_optimization_parameters mode appends: PHP http_build_query, nulls dropped. */
export function transformationQuery(image: MagentoImageSize, storeCode: string): string {
  const params: [string, string | number | undefined][] = [
    ['width', image.width],
    ['height', image.height],
    ['store', storeCode],
    ['image-type', image.type],
  ];
  return params
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** image_optimization_parameters URLs for every original × view.xml image × store code. */
export function magentoParamsUrls(
  mediaBase: string,
  originals: readonly string[],
  sizes: readonly MagentoImageSize[],
  stores: readonly string[] = storeCodes,
): CorpusUrl[] {
  return originals.flatMap((original) =>
    sizes.flatMap((image) =>
      stores.map((store) => ({
        url: `${mediaBase}${original}?${transformationQuery(image, store)}`,
        form: 'magento/params',
        source: `Magento View/Asset/Image.php getUrlWithTransformationParameters(), view.xml ${image.id}, store ${store}`,
        intent: boundsIntent(original, image),
      })),
    ),
  );
}

/** How the shop's media URLs look: Magento's two formats, or Magento's Fastly module with image optimisation on. */
export type MagentoMediaMode = 'hash' | 'params' | 'fastly';

/**
 * The absolute URL Magento's GraphQL returns for a product image (`small_image.url`, `thumbnail.url`):
 * the size-less image of that type, in the shop's media URL mode. The Fastly form is the Fastly
 * product-image model without a resize (see fastly.ts).
 */
export function graphqlImageUrl(
  mode: MagentoMediaMode,
  mediaBase: string,
  original: string,
  imageType: string,
  hashOf: CacheHashLookup,
): string | undefined {
  if (mode === 'params')
    return `${mediaBase}${original}?${transformationQuery({ id: 'graphql', type: imageType }, 'default')}`;
  if (mode === 'fastly')
    return `${mediaBase}${original}?quality=80&bg-color=255,255,255&fit=bounds&height=&width=`;
  // Magento\Catalog\Model\Product\Image frames by default ($_keepFrame = true); no size, so no resize.
  const hash = hashOf({ id: 'graphql', type: imageType, keepFrame: true });
  return hash === undefined
    ? undefined
    : `${mediaBase}catalog/product/cache/${hash}/${productFile(original)}`;
}
