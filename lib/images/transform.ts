import { type Placement, placement, type Size } from './geometry.ts';
import type { Preset } from './presets.ts';

/** Fits an on-the-fly request can ask for (Fastly's bounds / cover / crop, in our geometry's names). */
const serveFits = ['inside', 'outside', 'cover'] as const;
export type ServeFit = (typeof serveFits)[number];

/** Formats imageServe can answer with: imageVariants' three plus PNG for sources with transparency. */
export const serveFormats = ['avif', 'webp', 'jpeg', 'png'] as const;
export type ServeFormat = (typeof serveFormats)[number];

export const serveFormatInfo: Readonly<Record<ServeFormat, { extension: string; contentType: string }>> = {
  avif: { extension: 'avif', contentType: 'image/avif' },
  webp: { extension: 'webp', contentType: 'image/webp' },
  jpeg: { extension: 'jpg', contentType: 'image/jpeg' },
  png: { extension: 'png', contentType: 'image/png' },
};

/**
 * What picture a request wants, independent of its encoding. Normalised: `fit` is `inside` unless
 * both sides are given; `quality` is absent when the request left it to the configured default.
 */
export type Transform =
  | {
      readonly kind: 'resize';
      readonly width?: number | undefined;
      readonly height?: number | undefined;
      readonly fit: ServeFit;
      readonly quality?: number | undefined;
    }
  | { readonly kind: 'preset'; readonly preset: Preset };

/**
 * The transform's part of a canonical variant name. Resize ids always contain a `.` and preset
 * names never do (see presetSchema), so the two can never name the same object.
 *
 * @example transformId({ kind: 'resize', width: 640, height: 800, fit: 'cover' }) // 'w640.h800.cover'
 */
export function transformId(transform: Transform): string {
  if (transform.kind === 'preset') return transform.preset.name;
  const parts = [];
  if (transform.width !== undefined) parts.push(`w${transform.width}`);
  if (transform.height !== undefined) parts.push(`h${transform.height}`);
  if (parts.length === 0) parts.push('full');
  parts.push(transform.fit);
  if (transform.quality !== undefined) parts.push(`q${transform.quality}`);
  return parts.join('.');
}

/**
 * File name of one encoded variant inside its original's variant folder.
 *
 * @example variantName({ kind: 'resize', width: 640, fit: 'inside', quality: 75 }, 'webp') // 'w640.inside.q75.webp'
 */
export function variantName(transform: Transform, format: ServeFormat): string {
  return `${transformId(transform)}.${serveFormatInfo[format].extension}`;
}

const resizeName =
  /^(?:w([1-9]\d{0,4})\.)?(?:h([1-9]\d{0,4})\.)?(?:(full)\.)?(inside|outside|cover)(?:\.q(100|[1-9]\d?))?\.(avif|webp|jpg|png)$/;
const presetName = /^([a-z0-9][a-z0-9_-]{0,62})\.(avif|webp|jpg|png)$/;

/**
 * Parses a canonical variant name back (the form CloudFront's viewer-request function rewrites
 * to). Only names {@link variantName} itself produces are accepted, so a name maps to exactly one
 * transform and format; anything else is `undefined`.
 */
export function parseVariantName(
  name: string,
  presets: readonly Preset[],
): { transform: Transform; format: ServeFormat } | undefined {
  const preset = presetName.exec(name);
  if (preset) {
    const found = presets.find((p) => p.name === preset[1]);
    const format = formatOfExtension(preset[2]);
    return found && format ? { transform: { kind: 'preset', preset: found }, format } : undefined;
  }
  const m = resizeName.exec(name);
  const format = formatOfExtension(m?.[6]);
  if (!m || !format) return undefined;
  const width = m[1] === undefined ? undefined : Number(m[1]);
  const height = m[2] === undefined ? undefined : Number(m[2]);
  const fit = m[4] as ServeFit;
  // A fit only means something with both sides; the one spelling without them is `inside`.
  if ((width === undefined || height === undefined) && fit !== 'inside') return undefined;
  const transform: Transform = {
    kind: 'resize',
    width,
    height,
    fit,
    quality: m[5] === undefined ? undefined : Number(m[5]),
  };
  // Round trip: only the one canonical spelling of a transform is accepted.
  return variantName(transform, format) === name ? { transform, format } : undefined;
}

function formatOfExtension(extension: string | undefined): ServeFormat | undefined {
  return serveFormats.find((f) => serveFormatInfo[f].extension === extension);
}

/**
 * Output geometry of a transform for a source of `source` size, never upscaled and never larger
 * than `maxDimension` on either axis. A single side scales the other proportionally; no side means
 * the source size, capped.
 */
export function transformPlacement(source: Size, transform: Transform, maxDimension: number): Placement {
  if (transform.kind === 'preset') return placement(source, transform.preset, transform.preset.fit);
  const box = {
    width: transform.width ?? (transform.height === undefined ? maxDimension : Number.MAX_SAFE_INTEGER),
    height: transform.height ?? (transform.width === undefined ? maxDimension : Number.MAX_SAFE_INTEGER),
  };
  const place = placement(source, box, transform.fit);
  if (place.canvas.width <= maxDimension && place.canvas.height <= maxDimension) return place;
  // Only `outside` can overshoot its box (a very long original): cap it like an `inside` request.
  return placement(place.content, { width: maxDimension, height: maxDimension }, 'inside');
}
