import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { messageOf } from '../common/messageOf.ts';
import { type InspectedOriginal, originalReadOptions } from './decode.ts';
import { ImageRejectedError, ImageRequestError } from './errors.ts';
import type { Layout } from './geometry.ts';
import type { ImageLimits } from './limits.ts';
import type { EncodeSettings } from './render.ts';
import type { ServeFormat } from './transform.ts';

/** A colour with 8-bit channels; `alpha` 255 is opaque. */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly alpha: number;
}

const white: Rgba = { r: 255, g: 255, b: 255, alpha: 255 };
const transparent: Rgba = { r: 255, g: 255, b: 255, alpha: 0 };

/** One encoded on-the-fly variant. */
export interface ServedImage {
  readonly body: Buffer;
  readonly width: number;
  readonly height: number;
}

/** How one variant is encoded: format, quality override, and the colour behind padding and transparency. */
export interface ServedEncoding {
  readonly format: ServeFormat;
  /** Overrides the format's configured default. */
  readonly quality?: number | undefined;
  /**
   * Fastly's `bg-color` / Magento's background: fills the padding and, when opaque, replaces
   * transparent pixels. Absent: transparent padding for sources with alpha (unless JPEG), else white.
   */
  readonly background?: Rgba | undefined;
  /** Magento's keep_transparency = false: flatten even PNG/WebP/AVIF onto the background. */
  readonly flatten?: boolean | undefined;
}

const sharpColour = (c: Rgba) => ({ r: c.r, g: c.g, b: c.b, alpha: c.alpha / 255 });

/**
 * A pass rendered before the final one, kept lossless in memory: Magento's rendition of a hash URL
 * that a resize query then applies to (as Fastly image optimisation applies it to Magento's file).
 * Its padding colour and flattening are Magento's; the final layout is planned on its canvas.
 */
export interface ServedPass {
  readonly layout: Layout;
  readonly background?: Rgba | undefined;
  readonly flatten?: boolean | undefined;
}

/**
 * Renders one variant of an inspected original in a single libvips pipeline: decode (shrinking on
 * load), resize to the layout's content, cut out its window, pad it onto the canvas, sRGB, encode.
 * Metadata is stripped and EXIF orientation applied, as imageVariants does. The output is always
 * exactly `layout.canvas` (the window and padding are derived from it).
 *
 * With `before`, two passes: the original is decoded once and rendered to `before.layout` as raw
 * 8-bit sRGB pixels (no encode, so nothing is lost between the passes), then `layout` — planned
 * against `before.layout.canvas` — is applied to those pixels and encoded.
 *
 * Every sharp call is inside the error handling: undecodable data throws {@link ImageRejectedError}
 * (`corrupt`, 415); a pipeline sharp refuses to build (which a valid layout never produces) throws
 * {@link ImageRequestError} (400 `unrenderable`) — either is an answer with a short TTL, not a 500.
 *
 * One request wants one output, so unlike imageVariants' decode-once-to-raw a single pass streams
 * straight through: no raw copy of the pixels is ever materialised.
 */
export async function renderServed(
  bytes: Buffer,
  original: InspectedOriginal,
  layout: Layout,
  encoding: ServedEncoding,
  settings: EncodeSettings,
  limits: ImageLimits,
  before?: ServedPass,
): Promise<ServedImage> {
  // Only the first frame of an animation is used: product images are stills.
  const decoded = () => sharp(bytes, { ...originalReadOptions(limits), pages: 1 });
  let input = { pipeline: decoded, hasAlpha: original.hasAlpha, kind: String(original.sourceFormat) };
  if (before !== undefined) {
    const pass = { format: 'png' as const, background: before.background, flatten: before.flatten };
    const raw = await executed(
      () => shaped(decoded(), original.hasAlpha, before.layout, pass).raw({ depth: 'uchar' }),
      original.sourceFormat,
    );
    const { width, height, channels } = raw.info;
    input = {
      pipeline: () => sharp(raw.data, { raw: { width, height, channels } }),
      hasAlpha: channels === 4,
      kind: 'intermediate',
    };
  }
  const image = await executed(
    () =>
      encoded(shaped(input.pipeline(), input.hasAlpha, layout, encoding), input.hasAlpha, encoding, settings),
    input.kind,
  );
  return { body: image.data, width: image.info.width, height: image.info.height };
}

/** Builds and runs a pipeline, translating sharp's failures (see {@link renderServed}). */
async function executed(build: () => Sharp, kind: string): Promise<{ data: Buffer; info: OutputInfo }> {
  let pipeline: Sharp;
  try {
    pipeline = build();
  } catch (error) {
    throw new ImageRequestError(400, 'unrenderable', 'this transformation cannot be rendered', {
      cause: error,
    });
  }
  try {
    return await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new ImageRejectedError('corrupt', `cannot decode the ${kind} data: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** The colour behind padding and transparency, and whether the alpha channel survives. */
function backdrop(hasAlpha: boolean, encoding: ServedEncoding): { background: Rgba; keepsAlpha: boolean } {
  const keepsAlpha = hasAlpha && encoding.format !== 'jpeg' && encoding.flatten !== true;
  return { background: encoding.background ?? (keepsAlpha ? transparent : white), keepsAlpha };
}

/** Resize, crop to the window, pad onto the canvas, flatten where asked, sRGB: everything but the encode. */
function shaped(input: Sharp, hasAlpha: boolean, layout: Layout, encoding: ServedEncoding): Sharp {
  const { content, window, canvas, left, top } = layout;
  const { background, keepsAlpha } = backdrop(hasAlpha, encoding);
  if (content.width < 1 || content.height < 1) {
    // Magento's picture rounds to nothing on its frame (a 1×2000 original in 240×300): it writes the
    // bare frame, and so do we.
    const frame = sharp({ create: { ...canvas, channels: 4, background: sharpColour(background) } });
    return (keepsAlpha ? frame : frame.flatten({ background: sharpColour(background) })).toColourspace(
      'srgb',
    );
  }
  let pipeline = input.resize(content.width, content.height, { fit: 'fill', kernel: 'lanczos3' });
  if (window.width !== content.width || window.height !== content.height) {
    pipeline = pipeline.extract(window);
  }
  const right = canvas.width - window.width - left;
  const bottom = canvas.height - window.height - top;
  if (left > 0 || top > 0 || right > 0 || bottom > 0) {
    pipeline = pipeline.extend({ left, top, right, bottom, background: sharpColour(background) });
  }
  // An opaque background replaces transparency (Fastly's bg-color); JPEG has no alpha at all.
  if (hasAlpha && (!keepsAlpha || (encoding.background !== undefined && background.alpha === 255))) {
    pipeline = pipeline.flatten({ background: { r: background.r, g: background.g, b: background.b } });
  }
  return pipeline.toColourspace('srgb');
}

function encoded(
  pipeline: Sharp,
  hasAlpha: boolean,
  encoding: ServedEncoding,
  settings: EncodeSettings,
): Sharp {
  const { format, quality } = encoding;
  const { background } = backdrop(hasAlpha, encoding);
  switch (format) {
    case 'jpeg':
      return pipeline
        .flatten({ background: { r: background.r, g: background.g, b: background.b } })
        .jpeg({ quality: quality ?? settings.jpegQuality, progressive: true, chromaSubsampling: '4:2:0' });
    case 'png':
      return pipeline.png({ compressionLevel: 6, adaptiveFiltering: true });
    case 'webp':
      return pipeline.webp({ quality: quality ?? settings.webpQuality, effort: 4 });
    case 'avif':
      return pipeline.avif({ quality: quality ?? settings.avifQuality, effort: settings.avifEffort });
  }
}
