import { z } from 'zod';
import { lumaPresets, outputFormats } from '../images/presets.ts';
import type { VariantSettings } from '../images/variantPipeline.ts';
import { intVar, parseEnv } from './env.ts';
import {
  encodeFrom,
  imageEnvShape,
  layoutFrom,
  limitsFrom,
  type MagentoHashConfig,
  magentoFrom,
} from './imageEnv.ts';
import { type PackageFiles, packageFiles } from './magentoTheme.ts';

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
  /** Formats of the hash sizes (AVIF more than doubles the time per original: README). */
  MAGENTO_IMAGE_FORMATS: z
    .string()
    .default('jpeg,webp')
    .transform((s) => s.split(',').map((f) => f.trim()))
    .pipe(z.array(z.enum(outputFormats)).min(1)),
});

export interface ImageVariantsConfig {
  readonly bucket: string;
  readonly settings: VariantSettings;
  /** Absent: only the presets are generated. */
  readonly magento: MagentoHashConfig | undefined;
}

/** The imageVariants function's configuration, parsed once from the environment (and the theme files it names). */
export function loadImageVariantsConfig(
  env: Record<string, string | undefined> = process.env,
  files: PackageFiles = packageFiles,
): ImageVariantsConfig {
  const e = parseEnv(schema, env);
  const magento = magentoFrom(e, files);
  return Object.freeze({
    bucket: e.MEDIA_BUCKET,
    magento,
    settings: Object.freeze({
      layout: layoutFrom(e),
      presets: e.IMAGE_PRESETS ?? lumaPresets,
      formats: [...new Set(e.IMAGE_FORMATS)],
      magentoFormats: [...new Set(e.MAGENTO_IMAGE_FORMATS)],
      limits: limitsFrom(e),
      encode: encodeFrom(e),
      uploadConcurrency: e.UPLOAD_CONCURRENCY,
    }),
  });
}
