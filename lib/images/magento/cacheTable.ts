import { type MagentoHashAlgorithm, type MagentoImage, magentoCacheHash } from './imageHash.ts';
import { type MagentoImageSettings, magentoImageOf, type ViewXmlTheme } from './viewXml.ts';

/** Every cache hash a shop's theme can emit, and the image parameters behind each. */
export interface MagentoCacheTable {
  /** The parameters of a `<32-hex>` cache directory, or undefined when the shop cannot emit it. */
  lookup(hash: string): MagentoImage | undefined;
  readonly entries: ReadonlyMap<string, MagentoImage>;
}

export interface CacheTableOptions extends MagentoImageSettings {
  /** The theme's effective view.xml (after merging its parents), e.g. `lumaTheme`. */
  readonly theme: ViewXmlTheme;
  /** Both at once while a shop upgrades from 2.4.7 (HMAC) to 2.4.8 (md5): old URLs stay answerable. */
  readonly algorithm: MagentoHashAlgorithm | readonly MagentoHashAlgorithm[];
  /**
   * crypt/key values for `hmac-md5` (each may hold several keys; Magento hashes with the last). Give the
   * value from before a rotation too while pages rendered with it are still cached.
   */
  readonly cryptKeys?: readonly string[];
}

/**
 * Precomputes the hash of every image size of a theme so a request's `<32-hex>` is one Map lookup.
 * Ids that share parameters (Luma's 47 ids make 19 distinct sizes) share an entry.
 *
 * @example buildCacheTable({ theme: lumaTheme, algorithm: 'md5' }).lookup('2765542505660baab28ecd555e27366e')?.width // 240
 */
export function buildCacheTable(options: CacheTableOptions): MagentoCacheTable {
  const algorithms: readonly MagentoHashAlgorithm[] =
    typeof options.algorithm === 'string' ? [options.algorithm] : options.algorithm;
  const keys = options.cryptKeys ?? [];
  if (algorithms.includes('hmac-md5') && keys.length === 0) {
    throw new TypeError('buildCacheTable: hmac-md5 needs at least one crypt key');
  }
  const entries = new Map<string, MagentoImage>();
  for (const entry of options.theme.images.values()) {
    const image = magentoImageOf(entry, options.theme, options);
    for (const algorithm of algorithms) {
      if (algorithm === 'md5') entries.set(magentoCacheHash(image, 'md5'), image);
      else for (const key of keys) entries.set(magentoCacheHash(image, 'hmac-md5', key), image);
    }
  }
  return {
    entries,
    lookup: (hash) => entries.get(hash),
  };
}
