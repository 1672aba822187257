import type { Placement, Size } from '../geometry.ts';
import { MagentoGeometryError } from './errors.ts';
import type { MagentoImage } from './imageHash.ts';

/**
 * PHP's round() as Magento's PHP (8.1–8.3) runs it: the value is first rounded to 15 significant
 * digits ("pre-rounding"), then halves go away from zero. Plain Math.round would turn the float
 * 2.4999999999999996 of an exact 2.5 into 2 where PHP gives 3.
 */
function phpRound(value: number): number {
  const pre = Number(value.toPrecision(15));
  return Math.sign(pre) * Math.round(Math.abs(pre));
}

interface Gd2Dims {
  readonly frame: Size;
  readonly dst: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

/**
 * Magento's AbstractAdapter::_adaptResizeValues and _checkAspectRatio for a frame of both sides.
 * Upscaling is refused only when the frame is at least the source on both axes (constrainOnly);
 * otherwise the picture is scaled to fit the frame, and without keepAspectRatio stretched to it.
 */
function gd2Dims(source: Size, box: Size, image: MagentoImage): Gd2Dims {
  let width = box.width;
  let height = box.height;
  if (image.keepAspectRatio) {
    if (image.constrainOnly && box.width >= source.width && box.height >= source.height) {
      width = source.width;
      height = source.height;
    }
    if (source.width / source.height >= box.width / box.height) {
      height = Math.max(1, phpRound((width / source.width) * source.height));
    } else {
      width = phpRound((height / source.height) * source.width);
    }
  }
  if (!image.keepFrame) return { frame: { width, height }, dst: { x: 0, y: 0, width, height } };
  return {
    frame: box,
    dst: { x: phpRound((box.width - width) / 2), y: phpRound((box.height - height) / 2), width, height },
  };
}

/**
 * Where Magento's GD2 resize puts a `source` picture for `image`, as the cache file it writes:
 * framed sizes are the box with the picture centred (rounded the PHP way), unframed ones are the
 * picture's own size. Like MediaStorage's ImageResize, a size missing a width or a height is not
 * resized at all: the file keeps the source's size.
 *
 * A framed size whose picture would be less than half a pixel wide gets `content.width` 0: Magento
 * writes the bare frame (background only), and so should the renderer.
 *
 * @throws MagentoGeometryError when an unframed output's width rounds to 0 px (a 5×997 source in a
 *   75×90 box): Magento's GD call fails there and it writes no file.
 * @example magentoPlacement({ width: 4000, height: 3000 }, lumaGrid) // content 240×180, canvas 240×300, top 60
 */
export function magentoPlacement(source: Size, image: MagentoImage): Placement {
  if (image.width === undefined || image.height === undefined) {
    return { content: { ...source }, canvas: { ...source }, left: 0, top: 0 };
  }
  const dims = gd2Dims(source, { width: image.width, height: image.height }, image);
  if (dims.frame.width < 1) {
    throw new MagentoGeometryError(
      `Magento cannot resize ${source.width}×${source.height} to ${image.width}×${image.height}: the width rounds to 0`,
    );
  }
  return {
    content: { width: dims.dst.width, height: dims.dst.height },
    canvas: dims.frame,
    left: dims.dst.x,
    top: dims.dst.y,
  };
}

/** How the area of the canvas the picture does not cover is filled. */
export type MagentoFill =
  | { readonly kind: 'transparent' }
  | { readonly kind: 'colour'; readonly rgb: readonly [number, number, number] };

/**
 * The fill of Gd2::fillBackgroundColor: a PNG or GIF source with alpha or a transparent colour keeps a
 * transparent canvas when `keepTransparency` (JPEG never does); otherwise the background colour, black
 * when Magento has none ("nobackground"). The output keeps the source's format and `image.quality`
 * applies to JPEG.
 */
export function magentoFill(image: MagentoImage, sourceHasTransparency: boolean): MagentoFill {
  if (image.keepTransparency && sourceHasTransparency) return { kind: 'transparent' };
  return { kind: 'colour', rgb: image.noBackground === true ? [0, 0, 0] : image.background };
}
