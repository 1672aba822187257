import sharp, { type Sharp } from 'sharp';
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
 * Renders one variant of an inspected original in a single libvips pipeline: decode (shrinking on
 * load), resize to the layout's content, cut out its window, pad it onto the canvas, sRGB, encode.
 * Metadata is stripped and EXIF orientation applied, as imageVariants does. The output is always
 * exactly `layout.canvas` (the window and padding are derived from it).
 *
 * Every sharp call is inside the error handling: undecodable data throws {@link ImageRejectedError}
 * (`corrupt`, 415); a pipeline sharp refuses to build (which a valid layout never produces) throws
 * {@link ImageRequestError} (400 `unrenderable`) — either is an answer with a short TTL, not a 500.
 *
 * One request wants one output, so unlike imageVariants' decode-once-to-raw this streams straight
 * through: no raw copy of the pixels is ever materialised.
 */
export async function renderServed(
  bytes: Buffer,
  original: InspectedOriginal,
  layout: Layout,
  encoding: ServedEncoding,
  settings: EncodeSettings,
  limits: ImageLimits,
): Promise<ServedImage> {
  let pipeline: Sharp;
  try {
    pipeline = buildPipeline(bytes, original, layout, encoding, settings, limits);
  } catch (error) {
    throw new ImageRequestError(400, 'unrenderable', 'this transformation cannot be rendered', {
      cause: error,
    });
  }
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { body: data, width: info.width, height: info.height };
  } catch (error) {
    throw new ImageRejectedError(
      'corrupt',
      `cannot decode the ${original.sourceFormat} data: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

function buildPipeline(
  bytes: Buffer,
  original: InspectedOriginal,
  layout: Layout,
  encoding: ServedEncoding,
  settings: EncodeSettings,
  limits: ImageLimits,
): Sharp {
  const { content, window, canvas, left, top } = layout;
  const { format, quality } = encoding;
  const keepsAlpha = original.hasAlpha && format !== 'jpeg' && encoding.flatten !== true;
  const background = encoding.background ?? (keepsAlpha ? transparent : white);
  // Only the first frame of an animation is used: product images are stills.
  let pipeline = sharp(bytes, { ...originalReadOptions(limits), pages: 1 }).resize(
    content.width,
    content.height,
    {
      fit: 'fill',
      kernel: 'lanczos3',
    },
  );
  if (window.width !== content.width || window.height !== content.height) {
    pipeline = pipeline.extract(window);
  }
  const right = canvas.width - window.width - left;
  const bottom = canvas.height - window.height - top;
  if (left > 0 || top > 0 || right > 0 || bottom > 0) {
    pipeline = pipeline.extend({ left, top, right, bottom, background: sharpColour(background) });
  }
  // An opaque background replaces transparency (Fastly's bg-color); JPEG has no alpha at all.
  if (original.hasAlpha && (!keepsAlpha || (encoding.background !== undefined && background.alpha === 255))) {
    pipeline = pipeline.flatten({ background: { r: background.r, g: background.g, b: background.b } });
  }
  pipeline = pipeline.toColourspace('srgb');
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
