import { z } from 'zod';
import type { KeyLayout } from '../images/keyLayout.ts';
import { defaultImageLimits, type ImageLimits } from '../images/limits.ts';
import { presetListSchema } from '../images/presets.ts';
import { defaultEncodeSettings, type EncodeSettings } from '../images/render.ts';
import { intVar, jsonVar, prefixVar } from './env.ts';
import { ConflictingVariablesError } from './errors.ts';

/**
 * The variables imageVariants and imageServe share, so both read the same bucket layout, presets,
 * limits and encoder settings from the same names.
 */
export const imageEnvShape = {
  MEDIA_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  ORIGINALS_PREFIX: prefixVar('catalog/product/'),
  DERIVED_PREFIX: prefixVar('derived/catalog/product/'),
  /** JSON array of {name, width, height, fit?}; defaults to Magento Luma's sizes. */
  IMAGE_PRESETS: jsonVar(presetListSchema).optional(),
  IMAGE_MAX_PIXELS: intVar(defaultImageLimits.maxPixels),
  IMAGE_MAX_FRAMES: intVar(defaultImageLimits.maxFrames),
  IMAGE_MAX_SOURCE_BYTES: intVar(defaultImageLimits.maxSourceBytes),
  JPEG_QUALITY: intVar(defaultEncodeSettings.jpegQuality, 1, 100),
  WEBP_QUALITY: intVar(defaultEncodeSettings.webpQuality, 1, 100),
  AVIF_QUALITY: intVar(defaultEncodeSettings.avifQuality, 1, 100),
  AVIF_EFFORT: intVar(defaultEncodeSettings.avifEffort, 0, 9),
};

type ImageEnv = z.output<z.ZodObject<typeof imageEnvShape>>;

/** The bucket layout; a derived prefix inside the originals prefix is fine, the reverse is refused. */
export function layoutFrom(e: ImageEnv): KeyLayout {
  // Derived keys are recognised first, so the reverse would classify every original as derived
  // output and silently do nothing.
  if (e.ORIGINALS_PREFIX.startsWith(e.DERIVED_PREFIX)) {
    throw new ConflictingVariablesError(
      ['ORIGINALS_PREFIX', 'DERIVED_PREFIX'],
      'ORIGINALS_PREFIX must not lie inside DERIVED_PREFIX',
    );
  }
  return { originalsPrefix: e.ORIGINALS_PREFIX, derivedPrefix: e.DERIVED_PREFIX };
}

export const limitsFrom = (e: ImageEnv): ImageLimits => ({
  maxPixels: e.IMAGE_MAX_PIXELS,
  maxFrames: e.IMAGE_MAX_FRAMES,
  maxSourceBytes: e.IMAGE_MAX_SOURCE_BYTES,
});

export const encodeFrom = (e: ImageEnv): EncodeSettings => ({
  jpegQuality: e.JPEG_QUALITY,
  webpQuality: e.WEBP_QUALITY,
  avifQuality: e.AVIF_QUALITY,
  avifEffort: e.AVIF_EFFORT,
});
