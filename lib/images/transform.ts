import {
  type CanvasPosition,
  type CanvasSpec,
  type Layout,
  layoutOf,
  placement,
  type Size,
  withCanvas,
} from './geometry.ts';
import type { Preset } from './presets.ts';
import type { EncodeSettings } from './render.ts';
import type { Rgba } from './serveRender.ts';

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

/** A Fastly-style resize: box (after `dpr`, rounding and the size cap), fit, and the optional extras. */
export interface ResizeTransform {
  readonly kind: 'resize';
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly fit: ServeFit;
  readonly quality?: number | undefined;
  /** Fastly `bg-color`: padding colour, and what an opaque colour puts behind transparent pixels. */
  readonly background?: Rgba | undefined;
  /** Fastly `canvas`, applied after the fit. */
  readonly canvas?: CanvasSpec | undefined;
}

/**
 * What picture a request wants, independent of its encoding. Normalised: `fit` is `inside` unless
 * both sides are given; the box is already multiplied by `dpr`, rounded and capped; `quality` is
 * absent when the request left it to the configured default.
 * - `preset`: one of imageVariants' presets by name;
 * - `magento`: Magento's `cache/<hash>/` URL — the hash names a view.xml image (size, frame,
 *   background, quality…) that the shop's table resolves at serve time; `resize` is a resize query
 *   applied on top of Magento's rendition, as Fastly image optimisation applies PWA Studio's query
 *   to the file Magento wrote for the hash (see {@link magentoTransform}).
 */
export type Transform = ResizeTransform | PresetTransform | MagentoTransform;

export interface PresetTransform {
  readonly kind: 'preset';
  readonly preset: Preset;
}

export interface MagentoTransform {
  readonly kind: 'magento';
  readonly hash: string;
  /** Never a resize that changes nothing: see {@link magentoTransform}. */
  readonly resize?: ResizeTransform | undefined;
}

/** A resize that leaves the picture as it is: no side, no quality, no background, no canvas. */
const changesNothing = (t: ResizeTransform): boolean =>
  t.width === undefined &&
  t.height === undefined &&
  t.quality === undefined &&
  t.background === undefined &&
  t.canvas === undefined;

/**
 * A Magento hash transform, `resize` kept only when it changes something: a query of only `auto`,
 * `format`, `dpr`, `fit` or `optimize` (or a quality that normalises away) names exactly Magento's
 * rendition, the pre-generated `cache.<hash>` variant.
 */
export function magentoTransform(hash: string, resize?: ResizeTransform): MagentoTransform {
  return resize === undefined || changesNothing(resize)
    ? { kind: 'magento', hash }
    : { kind: 'magento', hash, resize };
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** `bgff0000` (opaque) or `bgff000080` (with alpha): one spelling per colour. */
const backgroundId = (c: Rgba): string =>
  `bg${hex2(c.r)}${hex2(c.g)}${hex2(c.b)}${c.alpha === 255 ? '' : hex2(c.alpha)}`;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

function positionId(axis: 'x' | 'y', position: CanvasPosition | undefined): string | undefined {
  if (position === undefined) return undefined;
  if ('px' in position) return `${axis}${position.px}`;
  // Centred is the default: `offset-x50` and no position are one picture, so one name.
  return position.offset === 50 ? undefined : `o${axis}${position.offset}`;
}

/** `c240x300` (pixels) or `a4x5` (an aspect ratio, reduced), then the position if not centred. */
function canvasId(canvas: CanvasSpec): string[] {
  const divisor = canvas.mode === 'ratio' ? gcd(canvas.width, canvas.height) : 1;
  const parts = [
    `${canvas.mode === 'ratio' ? 'a' : 'c'}${canvas.width / divisor}x${canvas.height / divisor}`,
  ];
  for (const part of [positionId('x', canvas.x), positionId('y', canvas.y)]) if (part) parts.push(part);
  return parts;
}

/**
 * The transform's part of a canonical variant name. Resize ids always contain a `.`, Magento ids
 * start with `cache.`, and preset names never contain a `.` (see presetSchema), so no two kinds
 * can name the same object. A Magento hash with a resize on top is `cache.<hash>.<resize id>`:
 * after the 32 hex digits comes `.` then `w`, `h` or `full`, never an extension, so it cannot be
 * read as the plain `cache.<hash>.<ext>`. Every distinct output has one id and identical outputs share it:
 * - sides in pixels after `dpr` and rounding (`width=62.5` and `width=63`, `width=100&dpr=2` and
 *   `width=200` are one id); `full` when there is neither;
 * - the fit, always (`inside` when fewer than two sides: Fastly ignores `fit` then);
 * - `q<n>` only when it differs from the chosen format's configured default (see
 *   {@link normalisedForFormat}; PNG has no quality);
 * - `bg<rrggbb[aa]>` when a background is given; `c<W>x<H>` / `a<W>x<H>` for a canvas (ratios
 *   reduced: `240:300` is `a4x5`), `x<px>`/`ox<%>` and `y<px>`/`oy<%>` when not centred.
 *
 * @example transformId({ kind: 'resize', width: 640, height: 800, fit: 'cover' }) // 'w640.h800.cover'
 * @example transformId({ kind: 'magento', hash: 'a1b2…' }) // 'cache.a1b2…'
 * @example transformId({ kind: 'magento', hash: 'a1b2…', resize: { kind: 'resize', width: 240, height: 300, fit: 'outside' } }) // 'cache.a1b2….w240.h300.outside'
 */
export function transformId(transform: Transform): string {
  if (transform.kind === 'preset') return transform.preset.name;
  if (transform.kind === 'magento') {
    const base = `cache.${transform.hash}`;
    return transform.resize === undefined ? base : `${base}.${resizeId(transform.resize)}`;
  }
  return resizeId(transform);
}

function resizeId(transform: ResizeTransform): string {
  const parts = [];
  if (transform.width !== undefined) parts.push(`w${transform.width}`);
  if (transform.height !== undefined) parts.push(`h${transform.height}`);
  if (parts.length === 0) parts.push('full');
  parts.push(transform.fit);
  if (transform.quality !== undefined) parts.push(`q${transform.quality}`);
  if (transform.background !== undefined) parts.push(backgroundId(transform.background));
  if (transform.canvas !== undefined) parts.push(...canvasId(transform.canvas));
  return parts.join('.');
}

/**
 * File name of one encoded variant inside its original's variant folder.
 *
 * @example variantName({ kind: 'resize', width: 640, fit: 'inside', quality: 75 }, 'webp') // 'w640.inside.q75.webp'
 * @example variantName({ kind: 'magento', hash: '0f3b…' }, 'jpeg') // 'cache.0f3b….jpg' — imageVariants pre-generates Magento's sizes under exactly this name
 */
export function variantName(transform: Transform, format: ServeFormat): string {
  return `${transformId(transform)}.${serveFormatInfo[format].extension}`;
}

/**
 * The transform as it is rendered in `format`: an explicit quality equal to that format's
 * configured default, or any quality for PNG (lossless), is dropped, so `quality=80` and no
 * quality give one variant when 80 is the default. Call before {@link variantName}.
 */
export function normalisedForFormat(
  transform: Transform,
  format: ServeFormat,
  encode: EncodeSettings,
): Transform {
  if (transform.kind === 'magento') {
    // The resize on top re-encodes at its own quality, or the configured default (as a params URL).
    if (transform.resize === undefined) return transform;
    return magentoTransform(transform.hash, normalisedResize(transform.resize, format, encode));
  }
  return transform.kind === 'resize' ? normalisedResize(transform, format, encode) : transform;
}

function normalisedResize(
  transform: ResizeTransform,
  format: ServeFormat,
  encode: EncodeSettings,
): ResizeTransform {
  if (transform.quality === undefined) return transform;
  const defaults: Readonly<Record<ServeFormat, number | undefined>> = {
    jpeg: encode.jpegQuality,
    webp: encode.webpQuality,
    avif: encode.avifQuality,
    png: undefined,
  };
  const fallback = defaults[format];
  return fallback === undefined || fallback === transform.quality
    ? { ...transform, quality: undefined }
    : transform;
}

const n = '([1-9]\\d{0,4})';
const n0 = '(0|[1-9]\\d{0,4})';
const resizeName = new RegExp(
  `^(?:w${n}\\.)?(?:h${n}\\.)?(?:full\\.)?(inside|outside|cover)(?:\\.q(100|[1-9]\\d?))?` +
    '(?:\\.bg([0-9a-f]{6}(?:[0-9a-f]{2})?))?' +
    `(?:\\.([ca])${n}x${n}(?:\\.(o?)x${n0})?(?:\\.(o?)y${n0})?)?\\.(avif|webp|jpg|png)$`,
);
const presetName = /^([a-z0-9][a-z0-9_-]{0,62})\.(avif|webp|jpg|png)$/;
const magentoName = /^cache\.([0-9a-f]{32})\.(avif|webp|jpg|png)$/;
/** `cache.<hash>.` before a resize name (checked after {@link magentoName}): Magento's rendition, then that resize. */
const magentoThen = /^cache\.([0-9a-f]{32})\./;

const numberOr = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : Number(text);

function positionOf(offset: string | undefined, value: string | undefined): CanvasPosition | undefined {
  if (value === undefined) return undefined;
  return offset === 'o' ? { offset: Number(value) } : { px: Number(value) };
}

function backgroundOf(hex: string | undefined): Rgba | undefined {
  if (hex === undefined) return undefined;
  const byte = (i: number) => Number.parseInt(hex.slice(i, i + 2), 16);
  return { r: byte(0), g: byte(2), b: byte(4), alpha: hex.length === 8 ? byte(6) : 255 };
}

function resizeOfName(m: RegExpExecArray): ResizeTransform | undefined {
  const width = numberOr(m[1]);
  const height = numberOr(m[2]);
  const fit = m[3] as ServeFit;
  // A fit only means something with both sides; the one spelling without them is `inside`.
  if ((width === undefined || height === undefined) && fit !== 'inside') return undefined;
  const canvas: CanvasSpec | undefined =
    m[6] === undefined
      ? undefined
      : {
          mode: m[6] === 'a' ? 'ratio' : 'pixels',
          width: Number(m[7]),
          height: Number(m[8]),
          x: positionOf(m[9], m[10]),
          y: positionOf(m[11], m[12]),
        };
  for (const p of [canvas?.x, canvas?.y]) if (p && 'offset' in p && p.offset > 100) return undefined;
  return {
    kind: 'resize',
    width,
    height,
    fit,
    quality: numberOr(m[4]),
    background: backgroundOf(m[5]),
    canvas,
  };
}

/**
 * Parses a canonical variant name back (the form CloudFront's viewer-request function rewrites
 * to). Only names {@link variantName} itself produces are accepted, so a name maps to exactly one
 * transform and format; anything else is `undefined`.
 */
export function parseVariantName(
  name: string,
  presets: readonly Preset[],
): { transform: Transform; format: ServeFormat } | undefined {
  const magento = magentoName.exec(name);
  if (magento) {
    const format = formatOfExtension(magento[2]);
    return format && magento[1] ? { transform: { kind: 'magento', hash: magento[1] }, format } : undefined;
  }
  const resizedHash = magentoThen.exec(name);
  if (resizedHash) {
    const resized = resizeOfCanonicalName(name.slice(resizedHash[0].length));
    if (resized === undefined) return undefined;
    const transform = magentoTransform(resizedHash[1] ?? '', resized.transform);
    // `cache.<hash>.full.inside.jpg` is Magento's rendition spelt a second way: not canonical.
    return transform.resize === undefined ? undefined : { transform, format: resized.format };
  }
  const preset = presetName.exec(name);
  if (preset) {
    const found = presets.find((p) => p.name === preset[1]);
    const format = formatOfExtension(preset[2]);
    return found && format ? { transform: { kind: 'preset', preset: found }, format } : undefined;
  }
  return resizeOfCanonicalName(name);
}

function resizeOfCanonicalName(
  name: string,
): { transform: ResizeTransform; format: ServeFormat } | undefined {
  const m = resizeName.exec(name);
  const format = formatOfExtension(m?.[13]);
  const transform = m ? resizeOfName(m) : undefined;
  if (!transform || !format) return undefined;
  // Round trip: only the one canonical spelling of a transform is accepted.
  return variantName(transform, format) === name ? { transform, format } : undefined;
}

function formatOfExtension(extension: string | undefined): ServeFormat | undefined {
  return serveFormats.find((f) => serveFormatInfo[f].extension === extension);
}

/**
 * Output geometry of a resize or preset for a source of `source` size, never upscaled and never
 * larger than `maxDimension` on either axis. A single side scales the other proportionally; no
 * side means the source size, capped. A canvas is applied after the fit, as Fastly orders them.
 * (A Magento transform is placed by its view.xml image, `magentoPlacement`; its `resize` by this
 * function, against the size of Magento's rendition.)
 */
export function transformLayout(
  source: Size,
  transform: ResizeTransform | PresetTransform,
  maxDimension: number,
): Layout {
  if (transform.kind === 'preset') return layoutOf(placement(source, transform.preset, transform.preset.fit));
  const box = {
    width: transform.width ?? (transform.height === undefined ? maxDimension : Number.MAX_SAFE_INTEGER),
    height: transform.height ?? (transform.width === undefined ? maxDimension : Number.MAX_SAFE_INTEGER),
  };
  let place = placement(source, box, transform.fit);
  if (place.canvas.width > maxDimension || place.canvas.height > maxDimension) {
    // Only `outside` can overshoot its box (a very long original): cap it like an `inside` request.
    place = placement(place.content, { width: maxDimension, height: maxDimension }, 'inside');
  }
  const layout = layoutOf(place);
  return transform.canvas === undefined ? layout : withCanvas(layout, transform.canvas, maxDimension);
}
