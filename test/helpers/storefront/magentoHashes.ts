import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheHashLookup, MagentoImageSize } from './magento.ts';

interface HashVector {
  readonly id: string;
  readonly miscParams: {
    readonly image_width: number | null;
    readonly image_height: number | null;
    readonly keep_frame: boolean;
    readonly keep_aspect_ratio: boolean;
    readonly keep_transparency: boolean;
    readonly constrain_only: boolean;
    readonly quality: number;
    readonly background: readonly number[];
  };
  readonly md5: string;
  readonly hmacMd5: readonly { readonly cryptKey: string; readonly hash: string }[];
}

const vectorsFile = join(import.meta.dirname, '../../fixtures/images/magento-image-hash/vectors.json');

/**
 * Cache hashes as Magento's own PHP computed them (test/fixtures/images/magento-image-hash, known
 * answers), as a {@link CacheHashLookup}: `md5` for 2.4.8, or 2.4.7's HMAC-MD5 under one of the
 * vectors' crypt keys. Only Magento's defaults (quality 80, white background, proportional,
 * transparency kept, constrain only, no watermark) are looked up; `keepFrame` must match.
 *
 * @example magentoHashVectors('md5')({ id: 'category_page_grid', type: 'small_image', width: 240, height: 300, keepFrame: true })
 * // '2765542505660baab28ecd555e27366e'
 */
export function magentoHashVectors(algorithm: 'md5' | { readonly cryptKey: string }): CacheHashLookup {
  const vectors: readonly HashVector[] = JSON.parse(readFileSync(vectorsFile, 'utf8')).hashes;
  const defaults = vectors.filter(
    ({ id, miscParams: p }) =>
      !/watermark|quality/.test(id) &&
      p.quality === 80 &&
      p.keep_aspect_ratio &&
      p.keep_transparency &&
      p.constrain_only &&
      p.background.join(',') === '255,255,255',
  );
  return (image: MagentoImageSize) => {
    const found = defaults.find(
      ({ miscParams: p }) =>
        (p.image_width ?? undefined) === image.width &&
        (p.image_height ?? undefined) === image.height &&
        p.keep_frame === (image.keepFrame ?? false),
    );
    if (found === undefined) return undefined;
    if (algorithm === 'md5') return found.md5;
    return found.hmacMd5.find((h) => h.cryptKey === algorithm.cryptKey)?.hash;
  };
}
