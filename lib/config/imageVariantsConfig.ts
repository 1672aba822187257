import { z } from 'zod';
import { lumaPresets, outputFormats } from '../images/presets.ts';
import type { VariantSettings } from '../images/variantPipeline.ts';
import { intVar, parseEnv } from './env.ts';
import { encodeFrom, imageEnvShape, layoutFrom, limitsFrom } from './imageEnv.ts';

const schema = z.object({
  ...imageEnvShape,
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
  return Object.freeze({
    bucket: e.MEDIA_BUCKET,
    settings: Object.freeze({
      layout: layoutFrom(e),
      presets: e.IMAGE_PRESETS ?? lumaPresets,
      formats: [...new Set(e.IMAGE_FORMATS)],
      limits: limitsFrom(e),
      encode: encodeFrom(e),
      uploadConcurrency: e.UPLOAD_CONCURRENCY,
    }),
  });
}
