import sharp from 'sharp';
import { messageOf } from '../common/messageOf.ts';
import { type InspectedOriginal, originalReadOptions } from './decode.ts';
import { ImageRejectedError } from './errors.ts';
import type { Placement } from './geometry.ts';
import type { ImageLimits } from './limits.ts';
import type { EncodeSettings } from './render.ts';
import type { ServeFormat } from './transform.ts';

const white = { r: 255, g: 255, b: 255, alpha: 1 };
const transparent = { r: 255, g: 255, b: 255, alpha: 0 };

/** One encoded on-the-fly variant. */
export interface ServedImage {
  readonly body: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * Renders one variant of an inspected original in a single libvips pipeline: decode (shrinking on
 * load), resize to the placement's content, crop (`cover`) or letterbox (`frame`), sRGB, encode.
 * Metadata is stripped and EXIF orientation applied, as imageVariants does. `quality` overrides the
 * format's configured default. Undecodable data throws {@link ImageRejectedError} (`corrupt`).
 *
 * One request wants one output, so unlike imageVariants' decode-once-to-raw this streams straight
 * through: no raw copy of the pixels is ever materialised.
 */
export async function renderServed(
  bytes: Buffer,
  original: InspectedOriginal,
  place: Placement,
  format: ServeFormat,
  quality: number | undefined,
  settings: EncodeSettings,
  limits: ImageLimits,
): Promise<ServedImage> {
  const { content, canvas, left, top } = place;
  // Only the first frame of an animation is used: product images are stills.
  let pipeline = sharp(bytes, { ...originalReadOptions(limits), pages: 1 }).resize(
    content.width,
    content.height,
    {
      fit: 'fill',
      kernel: 'lanczos3',
    },
  );
  if (left < 0 || top < 0) {
    pipeline = pipeline.extract({ left: -left, top: -top, width: canvas.width, height: canvas.height });
  } else if (canvas.width !== content.width || canvas.height !== content.height) {
    pipeline = pipeline.extend({
      left,
      top,
      right: canvas.width - content.width - left,
      bottom: canvas.height - content.height - top,
      background: original.hasAlpha && format !== 'jpeg' ? transparent : white,
    });
  }
  pipeline = pipeline.toColourspace('srgb');
  switch (format) {
    case 'jpeg':
      pipeline = pipeline
        .flatten({ background: white })
        .jpeg({ quality: quality ?? settings.jpegQuality, progressive: true, chromaSubsampling: '4:2:0' });
      break;
    case 'png':
      pipeline = pipeline.png({ compressionLevel: 6, adaptiveFiltering: true });
      break;
    case 'webp':
      pipeline = pipeline.webp({ quality: quality ?? settings.webpQuality, effort: 4 });
      break;
    case 'avif':
      pipeline = pipeline.avif({ quality: quality ?? settings.avifQuality, effort: settings.avifEffort });
      break;
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
