import { z } from 'zod';
import { defaultImageLimits } from '../images/limits.ts';
import { lumaPresets, outputFormats, presetListSchema } from '../images/presets.ts';
import { defaultEncodeSettings } from '../images/render.ts';
import type { VariantSettings } from '../images/variantPipeline.ts';
import { ConfigError, intVar, jsonVar, parseEnv, prefixVar } from './env.ts';

const schema = z.object({
  MEDIA_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  ORIGINALS_PREFIX: prefixVar('catalog/product/'),
  DERIVED_PREFIX: prefixVar('derived/catalog/product/'),
  /** JSON array of {name, width, height, fit?}; defaults to Magento Luma's sizes. */
  IMAGE_PRESETS: jsonVar(presetListSchema).optional(),
  /** Comma-separated subset of jpeg,webp,avif. */
  IMAGE_FORMATS: z
    .string()
    .default(outputFormats.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f !== ''),
    )
    .pipe(z.array(z.enum(outputFormats)).min(1)),
  IMAGE_MAX_PIXELS: intVar(defaultImageLimits.maxPixels),
  IMAGE_MAX_FRAMES: intVar(defaultImageLimits.maxFrames),
  IMAGE_MAX_SOURCE_BYTES: intVar(defaultImageLimits.maxSourceBytes),
  JPEG_QUALITY: intVar(defaultEncodeSettings.jpegQuality, 1, 100),
  WEBP_QUALITY: intVar(defaultEncodeSettings.webpQuality, 1, 100),
  AVIF_QUALITY: intVar(defaultEncodeSettings.avifQuality, 1, 100),
  AVIF_EFFORT: intVar(defaultEncodeSettings.avifEffort, 0, 9),
  UPLOAD_CONCURRENCY: intVar(8, 1, 64),
});

export interface ImageVariantsConfig {
  readonly bucket: string;
  readonly settings: VariantSettings;
}

/** The imageVariants function's configuration, parsed once from the environment. */
export function loadImageVariantsConfig(
  env: Record<string, string | undefined> = process.env,
): ImageVariantsConfig {
  const e = parseEnv(schema, env);
  // A derived prefix inside the originals prefix is fine (derived keys are recognised first);
  // the reverse would classify every original as derived output and silently do nothing.
  if (e.ORIGINALS_PREFIX.startsWith(e.DERIVED_PREFIX)) {
    throw new ConfigError('invalid configuration: ORIGINALS_PREFIX must not lie inside DERIVED_PREFIX');
  }
  return Object.freeze({
    bucket: e.MEDIA_BUCKET,
    settings: Object.freeze({
      layout: { originalsPrefix: e.ORIGINALS_PREFIX, derivedPrefix: e.DERIVED_PREFIX },
      presets: e.IMAGE_PRESETS ?? lumaPresets,
      formats: [...new Set(e.IMAGE_FORMATS)],
      limits: {
        maxPixels: e.IMAGE_MAX_PIXELS,
        maxFrames: e.IMAGE_MAX_FRAMES,
        maxSourceBytes: e.IMAGE_MAX_SOURCE_BYTES,
      },
      encode: {
        jpegQuality: e.JPEG_QUALITY,
        webpQuality: e.WEBP_QUALITY,
        avifQuality: e.AVIF_QUALITY,
        avifEffort: e.AVIF_EFFORT,
      },
      uploadConcurrency: e.UPLOAD_CONCURRENCY,
    }),
  });
}
