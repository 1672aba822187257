import { createHash, createHmac } from 'node:crypto';
import { CryptKeyError } from './errors.ts';

/**
 * Watermark settings Magento appends to the hashed parameters when `design/watermark/<type>_image`
 * is configured (ParamsBuilder::getWatermark). Values are the store configuration's, as Magento reads them.
 */
export interface MagentoWatermark {
  readonly file: string;
  readonly opacity?: string;
  readonly position?: string;
  readonly width?: number;
  readonly height?: number;
}

/**
 * One image size as Magento hashes and renders it: ParamsBuilder's misc params after defaults.
 */
export interface MagentoImage {
  readonly width?: number;
  readonly height?: number;
  readonly keepAspectRatio: boolean;
  readonly keepFrame: boolean;
  readonly keepTransparency: boolean;
  readonly constrainOnly: boolean;
  /** The colour GD fills the frame with (when no transparency is kept). */
  readonly background: readonly [number, number, number];
  /**
   * Magento had no background (a view.xml `<background>` it could not parse): hashed as
   * "nobackground", and GD fills black — `background` is then [0, 0, 0].
   */
  readonly noBackground?: boolean;
  readonly quality: number;
  /** Rotation; Magento's themes never set it (hashed as `r:empty`). */
  readonly angle?: number;
  readonly watermark?: MagentoWatermark;
}

/** `hmac-md5`: Magento 2.3.x–2.4.7 (keyed with crypt/key). `md5`: 2.4.8 onwards (no key). */
export type MagentoHashAlgorithm = 'hmac-md5' | 'md5';

/**
 * The string Magento hashes: ParamsBuilder's keys in their order (height, width, background, angle,
 * quality, aspect ratio, frame, transparency, constrain, then any watermark values), each turned into
 * text by ConvertImageMiscParamsToReadableFormat and joined with `_`.
 *
 * @example magentoParamString(lumaCategoryGrid) // 'h:300_w:240_rgb255,255,255_r:empty_q:80_proportional_frame_transparency_doconstrainonly'
 */
export function magentoParamString(image: MagentoImage): string {
  const parts = [
    `h:${image.height ?? 'empty'}`,
    `w:${image.width ?? 'empty'}`,
    // PHP's !empty([]) is false: an unparsed background hashes as "nobackground".
    image.noBackground === true ? 'nobackground' : `rgb${image.background.join(',')}`,
    `r:${image.angle ?? 'empty'}`,
    `q:${image.quality}`,
    `${image.keepAspectRatio ? '' : 'non'}proportional`,
    `${image.keepFrame ? '' : 'no'}frame`,
    `${image.keepTransparency ? '' : 'no'}transparency`,
    `${image.constrainOnly ? 'do' : 'not'}constrainonly`,
  ];
  const wm = image.watermark;
  // implode() turns the nulls ParamsBuilder leaves for unset watermark values into empty strings.
  if (wm !== undefined)
    parts.push(wm.file, wm.opacity ?? '', wm.position ?? '', `${wm.width ?? ''}`, `${wm.height ?? ''}`);
  return parts.join('_');
}

/**
 * The HMAC key Magento's Encryptor::hash uses for a `crypt/key` value: keys are separated by any
 * whitespace, the last one is current, and a key written as `base64<…>` (what 2.4.7+ generates) is
 * used as its decoded bytes.
 */
export function magentoHmacKey(cryptKey: string): Buffer {
  const keys = cryptKey.trim().split(/\s+/);
  const current = keys[keys.length - 1] ?? '';
  // Encryptor::hash throws "No key available" on an empty key: so do we, rather than hash with "".
  if (current === '') throw new CryptKeyError('the crypt key is empty', 'crypt/key');
  return current.startsWith('base64')
    ? Buffer.from(current.slice('base64'.length), 'base64')
    : Buffer.from(current, 'utf8');
}

/**
 * The `<32-hex>` of `media/catalog/product/cache/<32-hex>/<file>` for `image`.
 *
 * @example magentoCacheHash(lumaCategoryGrid, 'md5') // '2765542505660baab28ecd555e27366e'
 */
export function magentoCacheHash(
  image: MagentoImage,
  algorithm: MagentoHashAlgorithm,
  cryptKey?: string,
): string {
  const data = magentoParamString(image);
  if (algorithm === 'md5') return createHash('md5').update(data, 'utf8').digest('hex');
  if (cryptKey === undefined) throw new CryptKeyError('hmac-md5 needs the crypt key', 'crypt/key');
  return createHmac('md5', magentoHmacKey(cryptKey)).update(data, 'utf8').digest('hex');
}
