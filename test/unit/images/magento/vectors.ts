import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MagentoImage } from '../../../../lib/images/magento/imageHash.ts';

/** Misc params exactly as Magento's ParamsBuilder returned them (PHP types, JSON-encoded). */
interface PhpMiscParams {
  readonly image_type: string | null;
  readonly image_height: number | null;
  readonly image_width: number | null;
  readonly background: readonly number[];
  readonly angle: number | null;
  readonly quality: number;
  readonly keep_aspect_ratio: boolean;
  readonly keep_frame: boolean;
  readonly keep_transparency: boolean;
  readonly constrain_only: boolean;
  readonly watermark_file?: string;
  readonly watermark_image_opacity?: string | null;
  readonly watermark_position?: string | null;
  readonly watermark_width?: string | null;
  readonly watermark_height?: string | null;
}

export interface HashVector {
  readonly group: 'luma' | 'odd';
  readonly id: string;
  readonly viewXmlArguments: Readonly<Record<string, unknown>>;
  readonly miscParams: PhpMiscParams;
  readonly paramString: string;
  readonly md5: string;
  readonly hmacMd5: readonly { readonly cryptKey: string; readonly hash: string }[];
}

export interface GeometryVector {
  readonly source: { readonly width: number; readonly height: number };
  readonly box: { readonly width: number; readonly height: number };
  readonly flags: {
    readonly keepFrame: boolean;
    readonly keepAspectRatio: boolean;
    readonly constrainOnly: boolean;
  };
  readonly frame: { readonly width: number; readonly height: number };
  readonly dst: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly output: { readonly width: number; readonly height: number } | { readonly error: string };
}

/** Known answers produced by Magento's own PHP (test/fixtures/images/magento-image-hash/generate.sh). */
export const vectors = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../../fixtures/images/magento-image-hash/vectors.json'), 'utf8'),
) as {
  readonly jpegQualityDefault: number;
  readonly cryptKeys: readonly { readonly name: string; readonly value: string }[];
  readonly hashes: readonly HashVector[];
  readonly geometry: readonly GeometryVector[];
};

const num = (value: string | null | undefined): number | undefined =>
  value === null || value === undefined ? undefined : Number(value);

/** The MagentoImage a vector's PHP misc params describe (a translation of types, not of rules). */
export function imageOfMiscParams(p: PhpMiscParams): MagentoImage {
  const [r, g, b] = p.background;
  return {
    ...(p.image_width !== null ? { width: p.image_width } : {}),
    ...(p.image_height !== null ? { height: p.image_height } : {}),
    keepAspectRatio: p.keep_aspect_ratio,
    keepFrame: p.keep_frame,
    keepTransparency: p.keep_transparency,
    constrainOnly: p.constrain_only,
    ...(r === undefined || g === undefined || b === undefined
      ? { background: [0, 0, 0] as const, noBackground: true }
      : { background: [r, g, b] as const }),
    quality: p.quality,
    ...(p.angle !== null ? { angle: p.angle } : {}),
    ...(p.watermark_file !== undefined
      ? {
          watermark: {
            file: p.watermark_file,
            ...(p.watermark_image_opacity != null ? { opacity: p.watermark_image_opacity } : {}),
            ...(p.watermark_position != null ? { position: p.watermark_position } : {}),
            ...(num(p.watermark_width) !== undefined ? { width: num(p.watermark_width) } : {}),
            ...(num(p.watermark_height) !== undefined ? { height: num(p.watermark_height) } : {}),
          },
        }
      : {}),
  };
}
