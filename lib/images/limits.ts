import { z } from 'zod';
import { ImageRejectedError } from './errors.ts';

/** Limits applied to every original before it is decoded — shared by imageVariants and imageServe. */
const imageLimitsSchema = z
  .object({
    /** Decompression-bomb guard: pixels of one frame, and of all frames summed (imgproxy's MAX_SRC_RESOLUTION). */
    maxPixels: z.number().int().positive(),
    /** Animated sources with more frames are refused. */
    maxFrames: z.number().int().positive(),
    /** Originals larger than this many bytes are refused before download. */
    maxSourceBytes: z.number().int().positive(),
  })
  .strict();
export type ImageLimits = z.infer<typeof imageLimitsSchema>;

export const defaultImageLimits: ImageLimits = Object.freeze({
  maxPixels: 50_000_000,
  maxFrames: 100,
  maxSourceBytes: 50 * 1024 * 1024,
});

/** Header facts of a source image, as read without decoding pixels. */
export interface SourceHeader {
  readonly width: number;
  readonly height: number;
  /** Height of one frame for animated/multi-page images. */
  readonly pageHeight?: number | undefined;
  readonly pages?: number | undefined;
}

/** Throws {@link ImageRejectedError} when a header exceeds the limits. Pure: no I/O. */
export function assertWithinLimits(header: SourceHeader, limits: ImageLimits): void {
  const frames = header.pages ?? 1;
  const frameHeight = header.pageHeight ?? header.height;
  const framePixels = header.width * frameHeight;
  if (frames > limits.maxFrames) {
    throw new ImageRejectedError(
      'too-many-frames',
      `${frames} frames exceed the limit of ${limits.maxFrames}`,
    );
  }
  if (framePixels > limits.maxPixels) {
    throw new ImageRejectedError(
      'too-many-pixels',
      `${header.width}×${frameHeight} = ${framePixels} pixels exceed the limit of ${limits.maxPixels}`,
    );
  }
  if (framePixels * frames > limits.maxPixels) {
    throw new ImageRejectedError(
      'too-many-pixels',
      `${frames} frames of ${framePixels} pixels exceed the limit of ${limits.maxPixels} pixels in all`,
    );
  }
}

/** Throws when a declared object size is zero or above the byte limit. */
export function assertSourceSize(bytes: number, limits: ImageLimits): void {
  if (bytes === 0) throw new ImageRejectedError('empty', 'the object is empty (0 bytes)');
  if (bytes > limits.maxSourceBytes) {
    throw new ImageRejectedError('too-large', `${bytes} bytes exceed the limit of ${limits.maxSourceBytes}`);
  }
}
