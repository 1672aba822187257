import type { Size } from './geometry.ts';
import type { MagentoImageRender, MagentoImages } from './imageServer.ts';
import { buildCacheTable } from './magento/cacheTable.ts';
import type { CryptKeySource } from './magento/cryptKeySource.ts';
import type { MagentoHashAlgorithm } from './magento/imageHash.ts';
import { magentoPlacement } from './magento/magentoGeometry.ts';
import type { ViewXmlTheme } from './magento/viewXml.ts';

export interface MagentoImagesOptions {
  readonly theme: ViewXmlTheme;
  readonly algorithms: readonly MagentoHashAlgorithm[];
  /** system/upload_configuration/jpeg_quality: part of every hash. */
  readonly quality: number;
  /** Needed for `hmac-md5`: the shop's crypt key, read at run time (never from the environment). */
  readonly cryptKeys?: CryptKeySource | undefined;
}

/**
 * imageServe's view of the shop's `cache/<hash>/` table: built once per crypt key (rebuilt when the
 * source returns a rotated key), each image placed with Magento's own geometry.
 *
 * @example const images = magentoImagesOf({ theme: lumaTheme, algorithms: ['md5'], quality: 80 }); (await images()).lookup(hash)
 */
export function magentoImagesOf(options: MagentoImagesOptions): () => Promise<MagentoImages> {
  const { theme, algorithms, quality, cryptKeys } = options;
  const keyed = algorithms.includes('hmac-md5');
  if (keyed && cryptKeys === undefined)
    throw new TypeError('magentoImagesOf: hmac-md5 needs a crypt key source');
  let built: { cryptKey: string | undefined; images: MagentoImages } | undefined;
  return async () => {
    const cryptKey = keyed ? await cryptKeys?.cryptKey() : undefined;
    if (built !== undefined && built.cryptKey === cryptKey) return built.images;
    const table = buildCacheTable({
      theme,
      algorithm: algorithms,
      quality,
      ...(cryptKey === undefined ? {} : { cryptKeys: [cryptKey] }),
    });
    const images: MagentoImages = {
      lookup: (hash): MagentoImageRender | undefined => {
        const image = table.lookup(hash);
        return image && { ...image, place: (source: Size) => magentoPlacement(source, image) };
      },
    };
    built = { cryptKey, images };
    return images;
  };
}
