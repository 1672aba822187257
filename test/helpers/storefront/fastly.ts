import type { CorpusUrl, ImageIntent } from './intent.ts';
import type { MagentoImageSize } from './magento.ts';

/**
 * The product image URLs Magento's Fastly module (fastly/fastly-magento2 1.2.247,
 * @00ed2da64575feab70913170aa3ebb2de7a587b0) emits with image optimisation on. Both models build
 * `<store media base URL><catalog/product/…>?` + `key=value` pairs joined with `&`, unencoded, in the
 * order the code fills its `fastlyParameters` array:
 *
 * - Model/View/Asset/Image.php (@a8f2c58ce6033197fe2bca9cab1d31d510f20bef; the preference for
 *   Magento's asset, so every block-rendered product image): `getFastlyUrl()` → `quality=<config>` or
 *   `optimize=<low|medium|high>` (automatic compression replaces quality), `bg-color=R,G,B` (flag),
 *   `fit=bounds` (keep_aspect_ratio), `orient` (angle), then `compileFastlyParameters()` →
 *   `height=<view.xml>&width=<view.xml>` (empty when view.xml has none) and `canvas=W:H` (flag).
 *   `getForceLossyUrl()` appends `&format=jpeg` for PNG originals when force-lossy is on.
 * - Model/Product/Image.php (@e5dbfd89fc0d7b186d1f91d7d5d4a18054e432a2; the preference for
 *   Magento's product image model, which GraphQL and the image helper use): `resize()` →
 *   `width=W&height=H` and `canvas=W,H` (flag), then `quality`, `bg-color`, `fit=bounds`; without a
 *   resize (GraphQL's size-less image) `compileFastlyParameters()` appends `height=&width=`.
 * - Plugin/AdaptivePixelRatioPlugin.php (@192442332fe011994a4852ee89b9b080932e0508) and
 *   Model/AdaptivePixelRatio.php: a srcset of `<url>&dpr=<r> <r>x` for each configured ratio.
 * - etc/config.xml defaults: quality 80, bg-color on, canvas on, ratios `2,3`; Magento's
 *   ParamsBuilder background is `[255, 255, 255]`.
 *
 * Fastly IO's semantics decide the intent: `fit=bounds` inside the box, never enlarged; `canvas=W:H`
 * pads to that aspect ratio, `canvas=W,H` to exactly that size; `dpr` multiplies the box; the
 * service's automatic WebP (the module's default IO configuration) negotiates the format, except
 * where the URL names one (`format=jpeg`).
 */

/** One configuration of the module's image optimisation settings. */
export interface FastlyImageConfig {
  readonly name: string;
  /** `optimize=` (automatic compression) instead of `quality=`. */
  readonly optimize?: 'low' | 'medium' | 'high' | undefined;
  readonly quality: number;
  readonly bgColor: boolean;
  readonly canvas: boolean;
  readonly forceLossy: boolean;
  readonly pixelRatios: readonly number[];
}

export const fastlyConfigs: readonly FastlyImageConfig[] = [
  { name: 'defaults', quality: 80, bgColor: true, canvas: true, forceLossy: false, pixelRatios: [2, 3] },
  { name: 'plain', quality: 80, bgColor: false, canvas: false, forceLossy: false, pixelRatios: [] },
  {
    name: 'optimize',
    optimize: 'medium',
    quality: 80,
    bgColor: true,
    canvas: true,
    forceLossy: true,
    pixelRatios: [2],
  },
];

const side = (n: number | undefined): string => (n === undefined ? '' : String(n));

function assetQuery(image: MagentoImageSize, config: FastlyImageConfig): string {
  const params: string[] = [config.optimize ? `optimize=${config.optimize}` : `quality=${config.quality}`];
  if (config.bgColor) params.push('bg-color=255,255,255');
  params.push('fit=bounds', `height=${side(image.height)}`, `width=${side(image.width)}`);
  if (config.canvas) params.push(`canvas=${side(image.width)}:${side(image.height)}`);
  return params.join('&');
}

function productQuery(image: MagentoImageSize, config: FastlyImageConfig): string {
  const params: string[] = [];
  const resized = image.width !== undefined || image.height !== undefined;
  if (resized) {
    params.push(`width=${side(image.width)}`, `height=${side(image.height)}`);
    if (config.canvas) params.push(`canvas=${side(image.width)},${side(image.height)}`);
  }
  params.push(config.optimize ? `optimize=${config.optimize}` : `quality=${config.quality}`);
  if (config.bgColor) params.push('bg-color=255,255,255');
  params.push('fit=bounds');
  if (!resized) params.push('height=', 'width=');
  return params.join('&');
}

function intentOf(
  original: string,
  image: MagentoImageSize,
  canvas: 'ratio' | 'exact' | undefined,
  dpr: number,
  lossy: boolean,
): ImageIntent {
  const { width, height } = image;
  const png = /\.png$/i.test(original);
  return {
    original,
    width: width === undefined ? undefined : width * dpr,
    height: height === undefined ? undefined : height * dpr,
    fit: 'bounds',
    ...(canvas !== undefined && width !== undefined && height !== undefined
      ? {
          canvas: {
            kind: canvas,
            width: width * (canvas === 'exact' ? dpr : 1),
            height: height * (canvas === 'exact' ? dpr : 1),
          },
        }
      : {}),
    // An explicit `format=jpeg` (force lossy) wins over the service's automatic WebP: Fastly's default
    // IO settings apply only where the URL sets nothing (etc/adminhtml/system.xml's own description).
    format:
      png && lossy ? { kind: 'fixed', type: 'jpeg' } : { kind: 'negotiate', fallback: png ? 'png' : 'jpeg' },
  };
}

/**
 * Every URL both Fastly models emit for the originals × view.xml images × configurations, with the
 * pixel-ratio srcset entries of the asset model.
 */
export function fastlyUrls(
  mediaBase: string,
  originals: readonly string[],
  sizes: readonly MagentoImageSize[],
  configs: readonly FastlyImageConfig[] = fastlyConfigs,
): CorpusUrl[] {
  const out: CorpusUrl[] = [];
  for (const original of originals) {
    const lossy = (config: FastlyImageConfig) => config.forceLossy && /\.png$/i.test(original);
    const suffix = (config: FastlyImageConfig) => (lossy(config) ? '&format=jpeg' : '');
    for (const config of configs) {
      for (const image of sizes) {
        const canvas = config.canvas ? 'ratio' : undefined;
        const asset = `${mediaBase}${original}?${assetQuery(image, config)}${suffix(config)}`;
        const source = `fastly-magento2 Model/View/Asset/Image.php getFastlyUrl(), ${config.name}, view.xml ${image.id}`;
        out.push({
          url: asset,
          form: 'fastly/asset',
          source,
          intent: intentOf(original, image, canvas, 1, lossy(config)),
        });
        for (const ratio of config.pixelRatios) {
          out.push({
            url: `${asset}&dpr=${ratio}`,
            form: 'fastly/dpr',
            source: `fastly-magento2 Model/AdaptivePixelRatio.php generateSrcSet() ${ratio}x, ${config.name}, view.xml ${image.id}`,
            intent: intentOf(original, image, canvas, ratio, lossy(config)),
          });
        }
        out.push({
          url: `${mediaBase}${original}?${productQuery(image, config)}${suffix(config)}`,
          form: 'fastly/product',
          source: `fastly-magento2 Model/Product/Image.php getFastlyUrl(), ${config.name}, view.xml ${image.id}`,
          intent: intentOf(original, image, config.canvas ? 'exact' : undefined, 1, lossy(config)),
        });
      }
    }
  }
  return out;
}
