import { z } from 'zod';
import type { KeyLayout } from '../images/keyLayout.ts';
import { defaultImageLimits, type ImageLimits } from '../images/limits.ts';
import type { MagentoHashAlgorithm } from '../images/magento/imageHash.ts';
import type { ViewXmlTheme } from '../images/magento/viewXml.ts';
import { presetListSchema } from '../images/presets.ts';
import { defaultEncodeSettings, type EncodeSettings } from '../images/render.ts';
import { intVar, jsonVar, prefixVar } from './env.ts';
import { ConflictingVariablesError } from './errors.ts';
import { loadMagentoTheme, type PackageFiles, packageFiles } from './magentoTheme.ts';

/**
 * The variables imageVariants and imageServe share, so both read the same bucket layout, presets,
 * limits and encoder settings from the same names.
 */
const rootVar = z
  .string()
  .regex(/^[^/].*\/$/, 'each root must not start with "/" and must end with "/"')
  .refine((p) => !p.includes('..') && !p.includes('//'), 'a root must not contain ".." or "//"');

export const imageEnvShape = {
  MEDIA_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  /** Key prefix of Magento's media directory in the bucket; empty: media paths are the keys. */
  MEDIA_PREFIX: z.union([z.literal(''), prefixVar('')]).default(''),
  /** Comma-separated media folders holding originals (`catalog/product/` first). */
  MEDIA_ROOTS: z
    .string()
    .default('catalog/product/')
    .transform((s) => s.split(',').map((r) => r.trim()))
    .pipe(z.array(rootVar).min(1)),
  DERIVED_PREFIX: prefixVar('derived/'),
  /** JSON array of {name, width, height, fit?}; defaults to Magento Luma's sizes. */
  IMAGE_PRESETS: jsonVar(presetListSchema).optional(),
  IMAGE_MAX_PIXELS: intVar(defaultImageLimits.maxPixels),
  IMAGE_MAX_FRAMES: intVar(defaultImageLimits.maxFrames),
  IMAGE_MAX_SOURCE_BYTES: intVar(defaultImageLimits.maxSourceBytes),
  JPEG_QUALITY: intVar(defaultEncodeSettings.jpegQuality, 1, 100),
  WEBP_QUALITY: intVar(defaultEncodeSettings.webpQuality, 1, 100),
  AVIF_QUALITY: intVar(defaultEncodeSettings.avifQuality, 1, 100),
  AVIF_EFFORT: intVar(defaultEncodeSettings.avifEffort, 0, 9),
  /**
   * How the shop's Magento hashes its `cache/<hash>/` directories: `md5` (2.4.8+), `hmac-md5`
   * (2.3.7–2.4.7, keyed with crypt/key), both while upgrading; empty: no hash sizes pre-generated or served.
   */
  MAGENTO_HASH_ALGORITHM: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== ''),
    )
    .pipe(z.array(z.enum(['md5', 'hmac-md5'])).max(2)),
  /** SSM SecureString holding env.php's crypt/key (the name, never the key); needed for hmac-md5. */
  MAGENTO_CRYPT_KEY_PARAMETER: z
    .string()
    .regex(/^$|^(\/[\w.-]+)+$|^arn:/, 'must be an SSM parameter path (/…) or ARN')
    .optional()
    // serverless.yml passes '' when the stage names none.
    .transform((name) => (name === '' ? undefined : name)),
  /** system/upload_configuration/jpeg_quality: part of every hash. */
  MAGENTO_JPEG_QUALITY: intVar(80, 1, 100),
  /**
   * The shop theme's view.xml files inside the function's package (stage param magentoViewXml packs them),
   * comma-separated, parent theme first; empty: Luma's. Paths, not content: the environment holds 4 KB.
   */
  MAGENTO_VIEW_XML: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f !== ''),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(/^[\w.@-]+(?:\/[\w.@-]+)*\.xml$/, 'each must be a relative path to an .xml file')
          .refine((f) => !f.split('/').includes('..'), 'a path must not contain ".."'),
      ),
    ),
};

type ImageEnv = z.output<z.ZodObject<typeof imageEnvShape>>;

/** The bucket layout; a derived prefix inside a root is fine, a root inside the derived prefix is refused. */
export function layoutFrom(e: ImageEnv): KeyLayout {
  // Derived keys are recognised first, so the reverse would classify every original as derived
  // output and silently do nothing.
  for (const root of e.MEDIA_ROOTS) {
    if (`${e.MEDIA_PREFIX}${root}`.startsWith(e.DERIVED_PREFIX)) {
      throw new ConflictingVariablesError(
        ['MEDIA_ROOTS', 'DERIVED_PREFIX'],
        `MEDIA_ROOTS: the media root ${e.MEDIA_PREFIX}${root} must not lie inside DERIVED_PREFIX`,
      );
    }
  }
  return { mediaPrefix: e.MEDIA_PREFIX, roots: e.MEDIA_ROOTS, derivedPrefix: e.DERIVED_PREFIX };
}

/** Which of Magento's cache/<hash>/ tables to build; the crypt key itself is read at run time. */
export interface MagentoHashConfig {
  readonly algorithms: readonly MagentoHashAlgorithm[];
  readonly cryptKeyParameter: string | undefined;
  readonly quality: number;
  /** The shop's effective view.xml (Luma unless MAGENTO_VIEW_XML names the theme's files). */
  readonly theme: ViewXmlTheme;
}

/** The Magento hash settings, the theme's files read from `files`; undefined when the shop's algorithm is not set. */
export function magentoFrom(e: ImageEnv, files: PackageFiles = packageFiles): MagentoHashConfig | undefined {
  if (e.MAGENTO_HASH_ALGORITHM.includes('hmac-md5') && e.MAGENTO_CRYPT_KEY_PARAMETER === undefined) {
    throw new ConflictingVariablesError(
      ['MAGENTO_HASH_ALGORITHM', 'MAGENTO_CRYPT_KEY_PARAMETER'],
      'MAGENTO_HASH_ALGORITHM hmac-md5 needs MAGENTO_CRYPT_KEY_PARAMETER (the SSM parameter of the crypt key)',
    );
  }
  if (e.MAGENTO_HASH_ALGORITHM.length === 0) return undefined;
  return Object.freeze({
    algorithms: [...new Set(e.MAGENTO_HASH_ALGORITHM)],
    cryptKeyParameter: e.MAGENTO_CRYPT_KEY_PARAMETER,
    quality: e.MAGENTO_JPEG_QUALITY,
    theme: loadMagentoTheme(e.MAGENTO_VIEW_XML, files),
  });
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
