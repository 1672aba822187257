import type { InspectedOriginal } from './decode.ts';
import { ImageRequestError } from './errors.ts';
import { type Layout, layoutOf, type Placement, type Size } from './geometry.ts';
import type { MagentoImageRender } from './imageServer.ts';
import { MagentoGeometryError } from './magento/errors.ts';
import type { Rgba, ServedEncoding, ServedPass } from './serveRender.ts';
import { type MagentoTransform, type ServeFormat, type Transform, transformLayout } from './transform.ts';

/** How one variant is rendered: its layout and encoding, after a lossless first pass when `before` is set. */
export interface RenderPlan {
  readonly layout: Layout;
  readonly encoding: ServedEncoding;
  readonly before?: ServedPass | undefined;
}

export interface PlanOptions {
  /** The size cap of every on-the-fly output side (`IMAGE_MAX_DIMENSION`). */
  readonly maxDimension: number;
  /** The view.xml image a Magento hash names (throws for an unknown one). */
  readonly magentoImage: (hash: string) => MagentoImageRender;
}

/**
 * The geometry and encoding of one variant: Magento's own for a hash URL, Fastly's otherwise. A
 * hash URL with a resize query is both, in two passes, as on a Fastly-backed Magento shop where
 * image optimisation takes the file Magento wrote for the hash as its input: Magento's rendition
 * first, then the query's layout planned against that rendition's size (so it never upscales past
 * it) and encoded as a params URL is.
 *
 * @example renderPlan(inspected, { kind: 'magento', hash, resize: { kind: 'resize', width: 120, height: 150, fit: 'cover' } }, 'webp', options) // before: Magento's 240×300, layout: 120×150 of it
 */
export function renderPlan(
  original: Pick<InspectedOriginal, 'sourceSize' | 'hasAlpha'>,
  transform: Transform,
  format: ServeFormat,
  options: PlanOptions,
): RenderPlan {
  if (transform.kind !== 'magento') return resizePlan(original.sourceSize, transform, format, options);
  const image = options.magentoImage(transform.hash);
  const layout = layoutOf(magentoPlace(image, original.sourceSize));
  const [r, g, b] = image.background;
  const background: Rgba = { r, g, b, alpha: 255 };
  if (transform.resize !== undefined) {
    // Magento's file keeps its alpha where Magento keeps it (a PNG with keep_transparency), whatever
    // the format the query then asks for: the second pass flattens it as it flattens any original.
    const transparent = image.keepTransparency && original.hasAlpha;
    if (unchanged(layout, original.sourceSize) && (transparent || !original.hasAlpha)) {
      // Magento's file is the original itself (GraphQL's size-less URL): one pass, shrinking on
      // load, gives the same pixels at half the cost of decoding the whole original to raw first.
      return resizePlan(original.sourceSize, transform.resize, format, options);
    }
    const before = { layout, background: transparent ? undefined : background, flatten: !transparent };
    return { ...resizePlan(layout.canvas, transform.resize, format, options), before };
  }
  // keep_transparency: PNG/WebP/AVIF keep the alpha (transparent letterbox); otherwise, and
  // always for JPEG, the picture sits on the background colour as Magento's GD2 adapter renders it.
  const transparent = image.keepTransparency && original.hasAlpha && format !== 'jpeg';
  return {
    layout,
    encoding: {
      format,
      quality: format === 'jpeg' ? image.quality : undefined,
      background: transparent ? undefined : background,
      flatten: !transparent,
    },
  };
}

/** A layout that neither resizes, crops nor pads: the source as it is. */
const unchanged = (layout: Layout, source: Size): boolean =>
  layout.canvas.width === source.width &&
  layout.canvas.height === source.height &&
  layout.content.width === source.width &&
  layout.content.height === source.height;

/**
 * Where Magento puts the original. Where Magento writes no file (an unframed side rounds to 0 px;
 * the shop shows its placeholder), there is nothing to serve: a 404 with the short TTL, not a 500.
 */
function magentoPlace(image: MagentoImageRender, source: Size): Placement {
  try {
    return image.place(source);
  } catch (error) {
    if (!(error instanceof MagentoGeometryError)) throw error;
    throw new ImageRequestError(404, 'no-magento-rendition', 'Magento renders no image of this size', {
      cause: error,
    });
  }
}

function resizePlan(
  source: Size,
  transform: Exclude<Transform, MagentoTransform>,
  format: ServeFormat,
  options: PlanOptions,
): RenderPlan {
  const layout = transformLayout(source, transform, options.maxDimension);
  const quality = transform.kind === 'resize' ? transform.quality : undefined;
  const background = transform.kind === 'resize' ? transform.background : undefined;
  return { layout, encoding: { format, quality, background } };
}
