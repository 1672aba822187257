import sharp from 'sharp';
import type { DecodedImage } from './decode.ts';
import { type Placement, placement } from './geometry.ts';
import type { OutputFormat, Preset } from './presets.ts';

/** Encoder settings; chosen from bench/images.ts measurements (see README). */
export interface EncodeSettings {
  readonly jpegQuality: number;
  readonly webpQuality: number;
  readonly avifQuality: number;
  /** 0 (fastest) – 9 (smallest). */
  readonly avifEffort: number;
}

export const defaultEncodeSettings: EncodeSettings = Object.freeze({
  jpegQuality: 80,
  webpQuality: 80,
  avifQuality: 50,
  avifEffort: 2,
});

export interface RenderedVariant {
  readonly preset: string;
  readonly format: OutputFormat;
  readonly body: Buffer;
  readonly width: number;
  readonly height: number;
}

const white = { r: 255, g: 255, b: 255, alpha: 1 };
const transparent = { r: 255, g: 255, b: 255, alpha: 0 };

/** Resizes the decoded original for one preset, returning raw pixels on the preset's canvas. */
export async function resizeForPreset(
  image: DecodedImage,
  preset: Preset,
): Promise<{ pixels: Buffer; place: Placement }> {
  const place = placement(image.sourceSize, preset, preset.fit);
  let pipeline = sharp(image.pixels, { raw: { ...image.size, channels: image.channels } }).resize(
    place.content.width,
    place.content.height,
    { fit: 'fill', kernel: 'lanczos3' },
  );
  if (place.canvas.width !== place.content.width || place.canvas.height !== place.content.height) {
    pipeline = pipeline.extend({
      left: place.left,
      top: place.top,
      right: place.canvas.width - place.content.width - place.left,
      bottom: place.canvas.height - place.content.height - place.top,
      background: image.hasAlpha ? transparent : white,
    });
  }
  return { pixels: await pipeline.raw().toBuffer(), place };
}

/** Encodes one preset's raw canvas to one format. JPEG has no alpha: transparency is flattened onto white. */
async function encodeVariant(
  raw: { pixels: Buffer; place: Placement; channels: 3 | 4 },
  preset: string,
  format: OutputFormat,
  settings: EncodeSettings,
): Promise<RenderedVariant> {
  const input = sharp(raw.pixels, { raw: { ...raw.place.canvas, channels: raw.channels } });
  let body: Buffer;
  switch (format) {
    case 'jpeg':
      body = await input
        .flatten({ background: white })
        .jpeg({ quality: settings.jpegQuality, progressive: true, chromaSubsampling: '4:2:0' })
        .toBuffer();
      break;
    case 'webp':
      body = await input.webp({ quality: settings.webpQuality, effort: 4 }).toBuffer();
      break;
    case 'avif':
      body = await input.avif({ quality: settings.avifQuality, effort: settings.avifEffort }).toBuffer();
      break;
  }
  return { preset, format, body, width: raw.place.canvas.width, height: raw.place.canvas.height };
}

/**
 * Every preset × format of one decoded original, in memory. Each preset is resized once from the
 * shared decode and its canvas encoded to every format; presets run concurrently (sharp works on
 * libuv's thread pool), and `onVariant` receives each variant as soon as it exists so uploads
 * overlap encoding. The result is in preset × format order whatever finished first.
 */
export async function renderVariants(
  image: DecodedImage,
  presets: readonly Preset[],
  formats: readonly OutputFormat[],
  settings: EncodeSettings,
  onVariant: (variant: RenderedVariant) => void = () => {},
): Promise<RenderedVariant[]> {
  const perPreset = await Promise.all(
    presets.map(async (preset) => {
      const resized = await resizeForPreset(image, preset);
      return Promise.all(
        formats.map(async (format) => {
          const variant = await encodeVariant(
            { ...resized, channels: image.channels },
            preset.name,
            format,
            settings,
          );
          onVariant(variant);
          return variant;
        }),
      );
    }),
  );
  return perPreset.flat();
}

/**
 * One picture of Magento's `cache/<hash>/` sizes, placed as Magento's GD2 adapter places it. Hashes
 * whose images render alike (the same size under two algorithms or crypt keys) share one rendition.
 */
export interface MagentoRendition {
  /** The variant names it is stored under, without extension: `cache.<hash>` of every hash naming it. */
  readonly names: readonly string[];
  readonly place: Placement;
  /** keep_frame letterbox colour, and what transparency is flattened onto. */
  readonly background: readonly [number, number, number];
  readonly keepTransparency: boolean;
  /** Magento's JPEG quality; WebP and AVIF use the configured defaults, as imageServe does. */
  readonly quality: number;
}

/**
 * Magento's sizes from the same single decode as the presets, encoded to every format the way
 * imageServe renders a `cache/<hash>/` miss: transparency kept only where Magento keeps it
 * (keep_transparency, a source with alpha, not JPEG), otherwise flattened onto the background; the
 * picture centred on the frame Magento computes. Each name gets its own copy of the same bytes.
 */
export async function renderMagentoVariants(
  image: DecodedImage,
  renditions: readonly MagentoRendition[],
  formats: readonly OutputFormat[],
  settings: EncodeSettings,
  onVariant: (variant: RenderedVariant) => void = () => {},
): Promise<RenderedVariant[]> {
  const perRendition = await Promise.all(
    renditions.map(async (rendition) => {
      const transparent = rendition.keepTransparency && image.hasAlpha;
      const canvas = await magentoCanvas(image, rendition, transparent);
      return Promise.all(
        formats.map(async (format) => {
          const body = await encodeMagento(canvas, rendition, format, transparent, settings);
          return rendition.names.map((name) => {
            const variant = { preset: name, format, body, ...rendition.place.canvas };
            onVariant(variant);
            return variant;
          });
        }),
      );
    }),
  );
  return perRendition.flat(2);
}

/** The rendition's canvas as raw RGBA: the resized picture on its frame (a bare frame when Magento's picture is under a pixel). */
async function magentoCanvas(
  image: DecodedImage,
  rendition: MagentoRendition,
  transparent: boolean,
): Promise<Buffer> {
  const { content, canvas, left, top } = rendition.place;
  const [r, g, b] = rendition.background;
  const fill = { r, g, b, alpha: transparent ? 0 : 1 };
  if (content.width < 1 || content.height < 1) {
    return sharp({ create: { ...canvas, channels: 4, background: fill } })
      .raw()
      .toBuffer();
  }
  return sharp(image.pixels, { raw: { ...image.size, channels: image.channels } })
    .resize(content.width, content.height, { fit: 'fill', kernel: 'lanczos3' })
    .ensureAlpha()
    .extend({
      left,
      top,
      right: canvas.width - content.width - left,
      bottom: canvas.height - content.height - top,
      background: fill,
    })
    .raw()
    .toBuffer();
}

async function encodeMagento(
  canvas: Buffer,
  rendition: MagentoRendition,
  format: OutputFormat,
  transparent: boolean,
  settings: EncodeSettings,
): Promise<Buffer> {
  const [r, g, b] = rendition.background;
  let input = sharp(canvas, { raw: { ...rendition.place.canvas, channels: 4 } });
  if (format === 'jpeg' || !transparent) input = input.flatten({ background: { r, g, b } });
  switch (format) {
    case 'jpeg':
      return input
        .jpeg({ quality: rendition.quality, progressive: true, chromaSubsampling: '4:2:0' })
        .toBuffer();
    case 'webp':
      return input.webp({ quality: settings.webpQuality, effort: 4 }).toBuffer();
    case 'avif':
      return input.avif({ quality: settings.avifQuality, effort: settings.avifEffort }).toBuffer();
  }
}
