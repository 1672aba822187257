import sharp from 'sharp';
import { magentoCacheHash } from '../../lib/images/magento/imageHash.ts';
import { lumaImages, lumaTheme } from '../../lib/images/magento/lumaImages.ts';
import { magentoImageOf } from '../../lib/images/magento/viewXml.ts';
import type { LambdaHost } from './lambdaHost.ts';
import { loadPwaStudio } from './pwaStudio.ts';

/** Chrome's Accept for images, and one of a browser with neither AVIF nor WebP. */
const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const jpegOnly = 'image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5';

/** One storefront URL fetched from imageServe, twice: as a first visitor and as the next one. */
export interface StorefrontFetch {
  /** Who emits this URL and how. */
  readonly emitter: string;
  readonly url: string;
  readonly accept: 'Chrome' | 'no AVIF/WebP';
  readonly status: number;
  readonly contentType: string;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly bytes: number;
  /** The first request's server-timing: `cache` only means it came from S3 (pre-generated or made before). */
  readonly firstTiming: string;
  readonly firstMs: number;
  readonly secondMs: number;
  /** True when the first request already found the variant in S3 (imageVariants made it at upload). */
  readonly pregenerated: boolean;
}

export interface StorefrontResult {
  /** The bucket key the original was uploaded to, where Magento's remote storage writes it. */
  readonly originalKey: string;
  readonly fetches: readonly StorefrontFetch[];
}

export interface StorefrontOptions {
  readonly host: LambdaHost;
  /** The media path of an original imageVariants has processed (`catalog/product/a/q/aqua.jpg`). */
  readonly mediaPath: string;
  readonly originalKey: string;
}

/**
 * Fetches one product original through the URLs the storefront really emits: Magento 2.4.8's default
 * hash URL for Luma's category grid image (`/media/catalog/product/cache/<md5>/…`: the WebP, or for a
 * browser without AVIF/WebP the JPEG, imageVariants made at upload), the same image
 * in Magento's image_optimization_parameters mode, and the URL PWA Studio's own makeUrl builds for
 * Venia's 640 px product tile (onboard setup, `fit=cover`, `auto=webp`).
 */
export async function runStorefront(options: StorefrontOptions): Promise<StorefrontResult> {
  const below = options.mediaPath.replace(/^catalog\/product\//, '');
  const grid = lumaImages.find((i) => i.id === 'category_page_grid');
  if (grid === undefined) throw new Error("Luma's view.xml data has no category_page_grid");
  const hash = magentoCacheHash(magentoImageOf(grid, lumaTheme), 'md5');
  const pwa = await loadPwaStudio('onboard');
  const hashUrl = `/media/catalog/product/cache/${hash}/${below}`;
  const urls: [string, string, StorefrontFetch['accept']][] = [
    ['Magento 2.4.8 (hash URL, Luma category_page_grid)', hashUrl, 'Chrome'],
    ['Magento 2.4.8 (hash URL, Luma category_page_grid)', hashUrl, 'no AVIF/WebP'],
    [
      'Magento 2.4 (image_optimization_parameters)',
      `/media/${options.mediaPath}?width=${grid.width}&height=${grid.height}&store=default&image-type=small_image`,
      'Chrome',
    ],
    [
      "PWA Studio (peregrine's makeUrl, Venia tile)",
      pwa.makeUrl(`/${below}`, { type: 'image-product', width: 640, height: 800, fit: 'cover' }),
      'Chrome',
    ],
  ];
  const fetches: StorefrontFetch[] = [];
  for (const [emitter, url, accept] of urls)
    fetches.push(await fetchTwice(options.host, emitter, url, accept));
  return { originalKey: options.originalKey, fetches };
}

interface UrlResult {
  readonly statusCode?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

async function fetchTwice(
  host: LambdaHost,
  emitter: string,
  url: string,
  accept: StorefrontFetch['accept'],
): Promise<StorefrontFetch> {
  const query = url.indexOf('?');
  const event = {
    rawPath: query < 0 ? url : url.slice(0, query),
    rawQueryString: query < 0 ? '' : url.slice(query + 1),
    headers: { accept: accept === 'Chrome' ? chrome : jpegOnly },
    requestContext: { http: { method: 'GET' } },
  };
  const first = await host.invoke<UrlResult>(event);
  const second = await host.invoke<UrlResult>(event);
  if (first.error) throw new Error(`imageServe failed on ${url}: ${first.error.message}`);
  const result = first.result ?? {};
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const status = result.statusCode ?? 0;
  const meta = status === 200 ? await sharp(body).metadata() : undefined;
  const timing = result.headers?.['server-timing'] ?? '';
  return {
    emitter,
    url,
    accept,
    status,
    contentType: result.headers?.['content-type'] ?? '',
    width: meta?.width,
    height: meta?.height,
    bytes: body.length,
    firstTiming: timing,
    firstMs: first.durationMs,
    secondMs: second.durationMs,
    pregenerated: status === 200 && !timing.includes('render'),
  };
}
