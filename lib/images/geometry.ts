import type { FitMode } from './presets.ts';

/**
 * Every fit the resizers understand: the preset fits of {@link FitMode}, plus two used by imageServe
 * for Fastly-style requests (PWA Studio's `fit=cover` and `fit=crop`). None upscales.
 * - `outside`: scaled so it covers the box, nothing cut off — the output may exceed the box on one axis.
 * - `cover`: scaled so it covers the box, then centre-cropped to the box.
 */
export type ResizeFit = FitMode | 'outside' | 'cover';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Where a resized image sits on its output canvas. */
export interface Placement {
  /** Size of the resized picture itself. */
  readonly content: Size;
  /** Size of the output file: equal to `content` for `inside`, the box for `frame`. */
  readonly canvas: Size;
  /** Offset of the content on the canvas; zero or negative (a centred crop) for `cover`. */
  readonly left: number;
  readonly top: number;
}

/** Width and height as displayed, after EXIF orientations 5–8 swap the axes. */
export function orientedSize(size: Size, exifOrientation: number | undefined): Size {
  return exifOrientation !== undefined && exifOrientation >= 5 && exifOrientation <= 8
    ? { width: size.height, height: size.width }
    : { width: size.width, height: size.height };
}

/** Scale factor that fits `source` inside `box`, capped at 1 (never upscale). */
function fitScale(source: Size, box: Size): number {
  return Math.min(1, box.width / source.width, box.height / source.height);
}

/**
 * Content size of `source` fitted inside `box`: aspect ratio kept, at least 1 px a side,
 * never larger than the source and never larger than the box.
 *
 * @example fitInside({ width: 4000, height: 3000 }, { width: 240, height: 300 }) // { width: 240, height: 180 }
 */
export function fitInside(source: Size, box: Size): Size {
  const scale = fitScale(source, box);
  if (scale === 1) return { width: source.width, height: source.height };
  return {
    width: clamp(Math.round(source.width * scale), 1, box.width),
    height: clamp(Math.round(source.height * scale), 1, box.height),
  };
}

/** Scale factor that makes `source` cover `box`, capped at 1 (never upscale). */
function coverScale(source: Size, box: Size): number {
  return Math.min(1, Math.max(box.width / source.width, box.height / source.height));
}

/**
 * Content size of `source` scaled to cover `box`: aspect ratio kept, at least 1 px a side, never
 * larger than the source. Not clamped to the box: that is what a crop is for.
 *
 * @example fitOutside({ width: 2560, height: 1600 }, { width: 640, height: 800 }) // { width: 1280, height: 800 }
 */
export function fitOutside(source: Size, box: Size): Size {
  const scale = coverScale(source, box);
  if (scale === 1) return { width: source.width, height: source.height };
  return {
    width: clamp(Math.round(source.width * scale), 1, source.width),
    height: clamp(Math.round(source.height * scale), 1, source.height),
  };
}

/**
 * Resize geometry: content fitted inside (`frame`, `inside`) or over (`outside`, `cover`) the box;
 * canvas letterboxed for `frame`, centre-cropped to the box for `cover` (never beyond the content,
 * so a small original is cropped, not padded).
 */
export function placement(source: Size, box: Size, fit: ResizeFit): Placement {
  if (fit === 'outside' || fit === 'cover') {
    const content = fitOutside(source, box);
    if (fit === 'outside') return { content, canvas: content, left: 0, top: 0 };
    const canvas = {
      width: Math.min(box.width, content.width),
      height: Math.min(box.height, content.height),
    };
    return {
      content,
      canvas,
      left: -Math.floor((content.width - canvas.width) / 2) || 0,
      top: -Math.floor((content.height - canvas.height) / 2) || 0,
    };
  }
  const content = fitInside(source, box);
  if (fit === 'inside') return { content, canvas: content, left: 0, top: 0 };
  return {
    content,
    canvas: { width: box.width, height: box.height },
    left: Math.floor((box.width - content.width) / 2),
    top: Math.floor((box.height - content.height) / 2),
  };
}

/**
 * The one decode target shared by every preset: the smallest size from which every preset's
 * content can be produced by downscaling only. Decoding straight to it lets libjpeg/libvips
 * shrink on load, so a 50 MP original is never held at full size when the largest preset is 700 px.
 */
export function sharedDecodeSize(source: Size, boxes: readonly Size[]): Size {
  let scale = 0;
  for (const box of boxes) scale = Math.max(scale, fitScale(source, box));
  if (scale >= 1 || boxes.length === 0) return { width: source.width, height: source.height };
  return {
    width: clamp(Math.ceil(source.width * scale), 1, source.width),
    height: clamp(Math.ceil(source.height * scale), 1, source.height),
  };
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));
