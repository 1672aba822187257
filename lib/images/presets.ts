import { z } from 'zod';

/**
 * How a variant fills its box. Both keep the aspect ratio and never upscale:
 * - `frame`: fit inside the box, then letterbox to exactly width × height on white (JPEG)
 *   or transparent (WebP/AVIF of images with alpha) — Magento's `keep_frame = true`, its default.
 * - `inside`: fit inside the box and stop; the output is at most width × height — Magento's `<frame>false</frame>`.
 */
const fitModes = ['frame', 'inside'] as const;
export type FitMode = (typeof fitModes)[number];

const presetSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "-" and "_"'),
    width: z.number().int().min(1).max(8192),
    height: z.number().int().min(1).max(8192),
    fit: z.enum(fitModes).default('frame'),
  })
  .strict();
export type Preset = z.infer<typeof presetSchema>;

export const presetListSchema = z
  .array(presetSchema)
  .min(1)
  .refine((list) => new Set(list.map((p) => p.name)).size === list.length, 'preset names must be unique');

/**
 * Magento Luma's storefront sizes (app/design/frontend/Magento/luma/etc/view.xml), so a shop
 * gets every image its theme renders without configuring anything.
 */
export const lumaPresets: readonly Preset[] = Object.freeze([
  { name: 'thumbnail', width: 75, height: 75, fit: 'frame' }, // mini_cart_product_thumbnail, product_thumbnail_image
  { name: 'gallery', width: 88, height: 110, fit: 'frame' }, // product_page_image_small (gallery thumbs)
  { name: 'minicart', width: 150, height: 150, fit: 'frame' }, // minicart / sidebar
  { name: 'cart', width: 165, height: 165, fit: 'frame' }, // cart_page_product_thumbnail
  { name: 'category', width: 240, height: 300, fit: 'frame' }, // category_page_grid, category_page_list
  { name: 'product', width: 700, height: 560, fit: 'frame' }, // product_page_image_medium, product_page_main_image
  { name: 'medium', width: 700, height: 700, fit: 'frame' }, // product_base_image / swatch zoom source
] satisfies Preset[]);

/** Output formats; each maps to one file extension and one Content-Type. */
export const outputFormats = ['jpeg', 'webp', 'avif'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export const formatInfo: Readonly<Record<OutputFormat, { extension: string; contentType: string }>> = {
  jpeg: { extension: 'jpg', contentType: 'image/jpeg' },
  webp: { extension: 'webp', contentType: 'image/webp' },
  avif: { extension: 'avif', contentType: 'image/avif' },
};
