import sharp, { type Metadata } from 'sharp';
import { messageOf } from '../common/messageOf.ts';
import { ImageRejectedError } from './errors.ts';
import { orientedSize, type Size, sharedDecodeSize } from './geometry.ts';
import { assertWithinLimits, type ImageLimits } from './limits.ts';
import { type SourceFormat, sniffFormat } from './sniff.ts';

/** An original decoded once: oriented, sRGB, 8 bits per channel, held as raw pixels. */
export interface DecodedImage {
  readonly pixels: Buffer;
  /** Size of `pixels`. */
  readonly size: Size;
  readonly channels: 3 | 4;
  /** Displayed size of the original (after EXIF orientation), the base of all preset geometry. */
  readonly sourceSize: Size;
  readonly sourceFormat: SourceFormat;
  readonly hasAlpha: boolean;
}

/** What an original's header says, once it has passed every check that needs no pixels. */
export interface InspectedOriginal {
  readonly sourceFormat: SourceFormat;
  /** Size of one frame as stored. */
  readonly frameSize: Size;
  /** Displayed size (after EXIF orientation): the base of all resize geometry. */
  readonly sourceSize: Size;
  readonly hasAlpha: boolean;
}

/** sharp options for every read of an original: the shared pixel limit, truncation is an error, EXIF orientation applied. */
export const originalReadOptions = (limits: ImageLimits) =>
  ({ failOn: 'truncated', limitInputPixels: limits.maxPixels, autoOrient: true }) as const;

/**
 * Validates an original without decoding pixels: unknown or SVG content (checked on magic bytes
 * before any decoder runs), a format that disagrees with its own header, HEIC without a decoder,
 * too many pixels or frames. Refusals throw {@link ImageRejectedError}.
 */
export async function inspectOriginal(bytes: Buffer, limits: ImageLimits): Promise<InspectedOriginal> {
  if (bytes.length === 0) throw new ImageRejectedError('empty', 'the object is empty (0 bytes)');
  const sniffed = sniffFormat(bytes);
  if (sniffed.kind === 'svg') {
    // SVG is a document, not a picture: rasterising it means parsing XML with entities and external
    // references. Product images are photographs; refusing SVG closes that door entirely.
    throw new ImageRejectedError('svg-not-allowed', 'SVG originals are not accepted');
  }
  if (sniffed.kind === 'unknown') {
    throw new ImageRejectedError(
      'unsupported-format',
      'content is not a JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF image',
    );
  }

  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { ...originalReadOptions(limits), limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageRejectedError('corrupt', `cannot read the ${sniffed.format} header: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (metadata.width === undefined || metadata.height === undefined) {
    throw new ImageRejectedError('corrupt', `the ${sniffed.format} header has no dimensions`);
  }
  if (!sameFamily(metadata.format, sniffed.format)) {
    throw new ImageRejectedError(
      'format-mismatch',
      `magic bytes say ${sniffed.format}, decoder says ${metadata.format}`,
    );
  }
  if (metadata.format === 'heif' && metadata.compression === 'hevc') {
    // sharp's prebuilt libheif decodes AV1 only; HEVC is patent-encumbered and not bundled.
    throw new ImageRejectedError('unsupported-format', 'HEIC (HEVC) images cannot be decoded here');
  }
  assertWithinLimits(
    {
      width: metadata.width,
      height: metadata.height,
      pageHeight: metadata.pageHeight,
      pages: metadata.pages,
    },
    limits,
  );
  const frameSize = { width: metadata.width, height: metadata.pageHeight ?? metadata.height };
  return {
    sourceFormat: sniffed.format,
    frameSize,
    sourceSize: orientedSize(frameSize, metadata.orientation),
    hasAlpha: metadata.hasAlpha === true,
  };
}

/**
 * Validates an original ({@link inspectOriginal}) and decodes it exactly once, straight to the size
 * the largest preset needs (`boxes`), so every variant afterwards is a cheap downscale of raw pixels.
 * Truncated or corrupt data throws {@link ImageRejectedError} too.
 */
export async function decodeOriginal(
  bytes: Buffer,
  boxes: readonly Size[],
  limits: ImageLimits,
): Promise<DecodedImage> {
  const { sourceFormat, sourceSize } = await inspectOriginal(bytes, limits);
  const decodeSize = sharedDecodeSize(sourceSize, boxes);
  const { data, info } = await decodeToSrgb(bytes, decodeSize, limits).catch((error: unknown) => {
    throw new ImageRejectedError('corrupt', `cannot decode the ${sourceFormat} data: ${messageOf(error)}`, {
      cause: error,
    });
  });
  if (info.channels !== 3 && info.channels !== 4) {
    throw new ImageRejectedError(
      'corrupt',
      `cannot decode the ${sourceFormat} data: unexpected channel count ${info.channels} after sRGB conversion`,
    );
  }
  return {
    pixels: data,
    size: { width: info.width, height: info.height },
    channels: info.channels,
    sourceSize,
    sourceFormat,
    hasAlpha: info.channels === 4,
  };
}

/** Raw 8-bit sRGB pixels at `size`; only the first frame of an animation (product images are stills). */
function decodeToSrgb(bytes: Buffer, size: Size, limits: ImageLimits) {
  return sharp(bytes, { ...originalReadOptions(limits), pages: 1 })
    .resize(size.width, size.height, { fit: 'fill' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
}

const sameFamily = (decoder: string | undefined, sniffed: SourceFormat): boolean =>
  decoder === sniffed || (decoder === 'heif' && (sniffed === 'avif' || sniffed === 'heif'));
