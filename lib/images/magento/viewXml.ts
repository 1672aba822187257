import { XMLParser } from 'fast-xml-parser';
import { ViewXmlError } from './errors.ts';
import type { MagentoImage, MagentoWatermark } from './imageHash.ts';

/** The product image roles an `<image type>` may name (Magento's view.xsd). */
const imageTypes = ['image', 'small_image', 'thumbnail', 'swatch_image', 'swatch_thumb'] as const;
type MagentoImageType = (typeof imageTypes)[number];

/**
 * One `<image>` of a theme's view.xml (module Magento_Catalog), typed the way Magento's ImageExtractor
 * types it. A field is absent when the file does not mention it, `null` when the file sets it
 * `xsi:nil="true"` (which, merged over a parent, clears the parent's value back to the default).
 */
export interface ViewXmlImage {
  readonly id: string;
  readonly type: MagentoImageType;
  readonly width?: number | null;
  readonly height?: number | null;
  readonly constrain?: boolean | null;
  readonly aspectRatio?: boolean | null;
  readonly frame?: boolean | null;
  readonly transparency?: boolean | null;
  readonly background?: readonly [number, number, number] | null;
}

/** What a theme's view.xml says about product images. */
export interface ViewXmlTheme {
  readonly images: ReadonlyMap<string, ViewXmlImage>;
  /** The Magento_Catalog var `product_image_white_borders`, the default of `frame`; absent if unset. */
  readonly productImageWhiteBorders?: boolean;
}

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'images' || name === 'image' || name === 'vars' || name === 'var',
});

const fieldOfTag = {
  width: 'width',
  height: 'height',
  constrain: 'constrain',
  aspect_ratio: 'aspectRatio',
  frame: 'frame',
  transparency: 'transparency',
  background: 'background',
} as const;
type Tag = keyof typeof fieldOfTag;

/**
 * Reads a theme's view.xml. Stricter than Magento, which would silently turn `<width>abc</width>` into
 * 0 and `<frame>yes</frame>` into false: anything Magento would not read as the author meant is a
 * {@link ViewXmlError} naming the entry.
 *
 * @example parseViewXml(readFileSync('app/design/frontend/Acme/shop/etc/view.xml', 'utf8'))
 */
export function parseViewXml(xml: string): ViewXmlTheme {
  let document: XmlNode;
  try {
    document = parser.parse(xml, true) as XmlNode;
  } catch (error) {
    throw new ViewXmlError('not well-formed XML', undefined, { cause: error });
  }
  const view = document.view;
  if (!isNode(view)) throw new ViewXmlError('no <view> root element');
  const images = new Map<string, ViewXmlImage>();
  for (const group of nodes(asNode(view.media)?.images)) {
    // Only Magento_Catalog's images size product pictures (ParamsBuilder reads that module's entries).
    if (group['@module'] !== 'Magento_Catalog') continue;
    for (const node of nodes(group.image)) {
      const image = parseImage(node);
      if (images.has(image.id)) throw new ViewXmlError('declared twice', image.id);
      images.set(image.id, image);
    }
  }
  const whiteBorders = catalogVar(view, 'product_image_white_borders');
  return whiteBorders === undefined
    ? { images }
    : // Magento casts the var with (bool): "0" and "" are false, anything else true.
      { images, productImageWhiteBorders: whiteBorders !== '0' && whiteBorders !== '' };
}

/**
 * A child theme over its parent, as Magento's Config\View::read merges the chain
 * (array_replace_recursive): per image id, every field the child states (even as nil) replaces the
 * parent's; ids only the parent has stay.
 */
export function mergeViewXml(parent: ViewXmlTheme, child: ViewXmlTheme): ViewXmlTheme {
  const images = new Map(parent.images);
  for (const [id, image] of child.images) images.set(id, { ...(images.get(id) ?? {}), ...image });
  const whiteBorders = child.productImageWhiteBorders ?? parent.productImageWhiteBorders;
  return whiteBorders === undefined ? { images } : { images, productImageWhiteBorders: whiteBorders };
}

/** Store settings that take part in an image's parameters besides view.xml. */
export interface MagentoImageSettings {
  /** `system/upload_configuration/jpeg_quality`; Magento's default is 80. */
  readonly quality?: number;
  /** Watermark per image type (`design/watermark/<type>_*`), when configured. */
  readonly watermarks?: Partial<Record<MagentoImageType, MagentoWatermark>>;
}

/**
 * The parameters Magento's ParamsBuilder builds for one view.xml entry: unset (or nil) fields take
 * its defaults — frame from `product_image_white_borders` (false when the theme has no such var),
 * constrain, aspect ratio and transparency true, background white.
 */
export function magentoImageOf(
  image: ViewXmlImage,
  theme: Pick<ViewXmlTheme, 'productImageWhiteBorders'>,
  settings: MagentoImageSettings = {},
): MagentoImage {
  const watermark = settings.watermarks?.[image.type];
  return {
    ...(image.width != null ? { width: image.width } : {}),
    ...(image.height != null ? { height: image.height } : {}),
    keepFrame: image.frame ?? theme.productImageWhiteBorders ?? false,
    constrainOnly: image.constrain ?? true,
    keepAspectRatio: image.aspectRatio ?? true,
    keepTransparency: image.transparency ?? true,
    background: image.background ?? [255, 255, 255],
    quality: settings.quality ?? 80,
    ...(watermark !== undefined ? { watermark } : {}),
  };
}

function parseImage(node: XmlNode): ViewXmlImage {
  const id = node['@id'];
  if (typeof id !== 'string' || id === '') throw new ViewXmlError('an <image> without an id');
  const type = node['@type'];
  if (!imageTypes.includes(type as MagentoImageType)) {
    throw new ViewXmlError(`type must be one of ${imageTypes.join(', ')}, not ${JSON.stringify(type)}`, id);
  }
  const image: Record<string, unknown> = { id, type };
  for (const [tag, value] of Object.entries(node)) {
    if (tag.startsWith('@')) continue;
    if (!(tag in fieldOfTag)) throw new ViewXmlError(`unknown element <${tag}>`, id);
    image[fieldOfTag[tag as Tag]] = parseField(tag as Tag, value, id);
  }
  return image as unknown as ViewXmlImage;
}

function parseField(tag: Tag, value: unknown, id: string): unknown {
  if (isNode(value) && value['@xsi:nil'] === 'true') return null;
  if (typeof value !== 'string') throw new ViewXmlError(`<${tag}> must hold text`, id);
  if (tag === 'width' || tag === 'height') {
    if (!/^[1-9]\d{0,4}$/.test(value))
      throw new ViewXmlError(`<${tag}> must be a positive integer, not "${value}"`, id);
    return Number(value);
  }
  if (tag === 'background') return parseBackground(value, id);
  // ImageExtractor takes only "true" and "1" as true; we refuse anything but the four spellings.
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ViewXmlError(`<${tag}> must be true, false, 1 or 0, not "${value}"`, id);
}

function parseBackground(value: string, id: string): readonly [number, number, number] {
  const match = /^\[\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3})\s*\]$/.exec(value);
  const rgb = match?.slice(1).map(Number);
  if (rgb === undefined || rgb.some((c) => c > 255)) {
    throw new ViewXmlError(`<background> must be [r, g, b] with 0–255 each, not "${value}"`, id);
  }
  return [rgb[0] ?? 0, rgb[1] ?? 0, rgb[2] ?? 0];
}

function catalogVar(view: XmlNode, name: string): string | undefined {
  let found: string | undefined;
  for (const vars of nodes(view.vars)) {
    if (vars['@module'] !== 'Magento_Catalog') continue;
    for (const v of nodes(vars.var)) {
      if (v['@name'] !== name) continue;
      const text = v['#text'];
      found = typeof text === 'string' ? text : '';
    }
  }
  return found;
}

const isNode = (value: unknown): value is XmlNode =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asNode = (value: unknown): XmlNode | undefined => (isNode(value) ? value : undefined);
const nodes = (value: unknown): XmlNode[] =>
  Array.isArray(value) ? value.map((v) => (isNode(v) ? v : {})) : [];
