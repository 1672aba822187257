import sharp from 'sharp';
import { photo, transparentPng } from '../images.ts';
import type { Size } from './intent.ts';
import { storefrontOriginals } from './pwaStudio.ts';

/**
 * The originals the storefront corpus names, made from a real photograph: shapes that make the fits
 * differ (landscape against the PWA's 4:5 boxes), some smaller than the boxes asked for (never
 * upscaled), a transparent PNG, one per media root. Media path → bytes and pixel size.
 */
export async function storefrontOriginalImages(): Promise<Map<string, { bytes: Buffer; size: Size }>> {
  const jpeg = (width: number, height: number) =>
    sharp(photo('Garden.jpg')).resize(width, height, { fit: 'cover' }).jpeg({ quality: 85 }).toBuffer();
  const png = async (width: number, height: number) =>
    sharp(await jpeg(width, height))
      .png()
      .toBuffer();
  const o = storefrontOriginals;
  const made: [string, Promise<Buffer>, Size][] = [
    [o.product, jpeg(1600, 1000), { width: 1600, height: 1000 }],
    [o.productPng, transparentPng(600), { width: 600, height: 600 }],
    [o.category, jpeg(1000, 500), { width: 1000, height: 500 }],
    [o.swatch, png(110, 90), { width: 110, height: 90 }],
    [o.wysiwyg, jpeg(1200, 800), { width: 1200, height: 800 }],
    // The swatch original Magento made that 110x90 thumbnail from (same shape), for a server that
    // resizes from it rather than from the thumbnail: the expected output is the same.
    ['attribute/swatch/r/e/red.png', png(330, 270), { width: 330, height: 270 }],
  ];
  return new Map(
    await Promise.all(made.map(async ([key, bytes, size]) => [key, { bytes: await bytes, size }] as const)),
  );
}
