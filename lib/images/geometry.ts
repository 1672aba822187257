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
 * The full output geometry of an on-the-fly variant: the source resized to `content`, the visible
 * `window` of it cut out (a crop; the whole content when nothing is cut), and that window placed at
 * `left`/`top` (≥ 0) on a `canvas` that may be larger (padding). Cropping and padding can both
 * happen, even on one axis (Fastly's `fit=crop` then a larger `canvas`), so unlike {@link Placement}
 * an offset never has to mean two things. Invariants (see {@link layoutOf}, {@link withCanvas}):
 * the window lies inside the content and the window at its offset lies inside the canvas, so the
 * encoded output is always exactly `canvas`.
 */
export interface Layout {
  readonly content: Size;
  readonly window: {
    readonly left: number;
    readonly top: number;
    readonly width: number;
    readonly height: number;
  };
  readonly canvas: Size;
  readonly left: number;
  readonly top: number;
}

/** One axis of a placement: the visible part of the content and where it sits on the canvas. */
function axisOf(
  content: number,
  canvas: number,
  offset: number,
): { from: number; length: number; at: number } {
  if (canvas <= content) {
    // A crop: the canvas shows `canvas` pixels of the content, starting at -offset (clamped into range).
    return { from: clamp(-offset, 0, content - canvas), length: canvas, at: 0 };
  }
  return { from: 0, length: content, at: clamp(offset, 0, canvas - content) };
}

/**
 * The {@link Layout} of a {@link Placement}, normalised per axis: where the canvas is smaller than
 * the content the content is cropped, where it is larger it is padded. Offsets out of range are
 * clamped, so any placement (even one with an off-by-one offset) renders to exactly its canvas.
 *
 * @example layoutOf(placement({ width: 1000, height: 1250 }, { width: 135, height: 170 }, 'cover')).window // { left: 0, top: 0, width: 135, height: 170 }
 */
export function layoutOf(place: Placement): Layout {
  const canvas = { width: Math.max(1, place.canvas.width), height: Math.max(1, place.canvas.height) };
  const x = axisOf(place.content.width, canvas.width, place.left);
  const y = axisOf(place.content.height, canvas.height, place.top);
  return {
    content: place.content,
    window: { left: x.from, top: y.from, width: x.length, height: y.length },
    canvas,
    left: x.at,
    top: y.at,
  };
}

/** Where the picture sits on a canvas along one axis: pixels from the start, or a share of the spare room. */
export type CanvasPosition = { readonly px: number } | { readonly offset: number };

/**
 * Fastly's `canvas`: a size in pixels, or an aspect ratio the canvas is widened or heightened to
 * around the picture; the picture placed at `x`/`y` (default: centred, `offset` 50 %).
 */
export interface CanvasSpec {
  readonly mode: 'pixels' | 'ratio';
  readonly width: number;
  readonly height: number;
  readonly x?: CanvasPosition | undefined;
  readonly y?: CanvasPosition | undefined;
}

/**
 * Applies a canvas to a laid-out picture (after its fit), as Fastly does: the visible window is
 * padded where the canvas is larger and cropped further where it is smaller; never more than
 * `maxDimension` a side.
 */
export function withCanvas(layout: Layout, spec: CanvasSpec, maxDimension: number): Layout {
  const shown = { width: layout.window.width, height: layout.window.height };
  let target: Size;
  if (spec.mode === 'pixels') {
    target = { width: spec.width, height: spec.height };
  } else if (shown.width * spec.height >= shown.height * spec.width) {
    target = { width: shown.width, height: Math.round((shown.width * spec.height) / spec.width) };
  } else {
    target = { width: Math.round((shown.height * spec.width) / spec.height), height: shown.height };
  }
  const canvas = {
    width: clamp(target.width, 1, maxDimension),
    height: clamp(target.height, 1, maxDimension),
  };
  const x = canvasAxis(shown.width, canvas.width, spec.x);
  const y = canvasAxis(shown.height, canvas.height, spec.y);
  return {
    content: layout.content,
    window: {
      left: layout.window.left + x.from,
      top: layout.window.top + y.from,
      width: x.length,
      height: y.length,
    },
    canvas,
    left: x.at,
    top: y.at,
  };
}

function canvasAxis(
  shown: number,
  canvas: number,
  position: CanvasPosition | undefined,
): { from: number; length: number; at: number } {
  const spare = Math.abs(canvas - shown);
  const offset =
    position !== undefined && 'px' in position
      ? canvas >= shown
        ? position.px
        : Math.round(spare / 2)
      : Math.round((spare * (position?.offset ?? 50)) / 100);
  return canvas >= shown
    ? { from: 0, length: shown, at: clamp(offset, 0, spare) }
    : { from: clamp(offset, 0, spare), length: canvas, at: 0 };
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
