import { z } from 'zod';
import type { ServeSettings } from '../images/imageServer.ts';
import type { AllowedSize } from '../images/imageUrl.ts';
import { lumaPresets } from '../images/presets.ts';
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

/** `640x800`, `640x` (width only) or `x800` (height only). */
const sizeEntry = /^(?:([1-9]\d{0,4})x([1-9]\d{0,4})?|x([1-9]\d{0,4}))$/;

const schema = z.object({
  ...imageEnvShape,
  IMAGE_MAX_DIMENSION: intVar(2560, 16, 8192),
  /** Optional allowlist, comma-separated: `640x800,240x300,1200x,x600`. Unset: any size up to the maximum. */
  IMAGE_SIZES: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      const sizes: AllowedSize[] = [];
      for (const entry of s.split(',').map((e) => e.trim())) {
        const m = sizeEntry.exec(entry);
        if (!m) {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not WIDTHxHEIGHT, WIDTHx or xHEIGHT` });
          return z.NEVER;
        }
        const width = m[1] === undefined ? undefined : Number(m[1]);
        const height = m[2] ?? m[3];
        sizes.push({ width, height: height === undefined ? undefined : Number(height) });
      }
      return sizes;
    }),
  /** On-the-fly AVIF only for requested boxes up to this many pixels (0: never); see README's bench:serve. */
  AVIF_MAX_PIXELS: intVar(250_000, 0),
  /**
   * ARN of the Secrets Manager secret holding the URL-signing keys (`current` or `current,next`, read at
   * run time: never the keys themselves). Unset or empty: signing off.
   */
  IMAGE_SIGNING_SECRET: z
    .string()
    .regex(
      /^$|^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
      'must be a Secrets Manager secret ARN',
    )
    .optional()
    // serverless.yml passes '' when the stage names none.
    .transform((arn) => (arn === '' ? undefined : arn)),
  /** How long read signing keys are reused: a rotation reaches every sandbox within it. */
  IMAGE_SIGNING_KEYS_TTL_SECONDS: intVar(300, 1, 3600),
  /** The keys used to be this variable (and so in the template): refused, so an old setup never signs off silently. */
  IMAGE_SIGNING_KEYS: z
    .undefined({
      error:
        'is no longer read: put the keys in a Secrets Manager secret and name it in IMAGE_SIGNING_SECRET',
    })
    .optional(),
  MAX_INLINE_BYTES: intVar(4_000_000, 1024, 4_400_000),
  /** Public base URL of the bucket's keys (CloudFront), ending in `/`, for redirects of large outputs. */
  REDIRECT_BASE_URL: z
    .string()
    .regex(/^https:\/\/[^/?#]+\/(?:[^?#]*\/)?$/, 'must be an https URL ending in "/"')
    .optional(),
  ERROR_MAX_AGE: intVar(60, 0, 86_400),
});

export interface ImageServeConfig {
  readonly bucket: string;
  readonly settings: ServeSettings;
  /** Which Magento hash table to answer `cache/<hash>/` URLs with; absent: they are 404. */
  readonly magento: MagentoHashConfig | undefined;
  /** Where the URL-signing keys are read at run time; absent: signing off (`settings.signingKeys` is empty). */
  readonly signing: SigningConfig | undefined;
}

/** The secret of the signing keys (its ARN, never a key) and how long read keys are reused. */
interface SigningConfig {
  readonly secretId: string;
  readonly ttlMs: number;
}

/** The imageServe function's configuration, parsed once from the environment (and the theme files it names). */
export function loadImageServeConfig(
  env: Record<string, string | undefined> = process.env,
  files: PackageFiles = packageFiles,
): ImageServeConfig {
  const e = parseEnv(schema, env);
  return Object.freeze({
    bucket: e.MEDIA_BUCKET,
    magento: magentoFrom(e, files),
    signing:
      e.IMAGE_SIGNING_SECRET === undefined
        ? undefined
        : Object.freeze({ secretId: e.IMAGE_SIGNING_SECRET, ttlMs: e.IMAGE_SIGNING_KEYS_TTL_SECONDS * 1000 }),
    settings: Object.freeze({
      rules: Object.freeze({
        layout: layoutFrom(e),
        presets: e.IMAGE_PRESETS ?? lumaPresets,
        maxDimension: e.IMAGE_MAX_DIMENSION,
        allowedSizes: e.IMAGE_SIZES,
      }),
      limits: limitsFrom(e),
      encode: encodeFrom(e),
      avifMaxPixels: e.AVIF_MAX_PIXELS,
      // Filled per request from the secret (imageServeHandler's signingKeys), never from the environment.
      signingKeys: [],
      maxInlineBytes: e.MAX_INLINE_BYTES,
      redirectBaseUrl: e.REDIRECT_BASE_URL,
      errorMaxAge: e.ERROR_MAX_AGE,
    }),
  });
}
