import type { FormatRequest } from './accept.ts';
import { ImageRequestError } from './errors.ts';
import type { CanvasPosition, CanvasSpec } from './geometry.ts';
import { classifyKey, type KeyLayout, originalKeyOf, rootOf } from './keyLayout.ts';
import type { Preset } from './presets.ts';
import type { Rgba } from './serveRender.ts';
import {
  magentoTransform,
  parseVariantName,
  type ResizeTransform,
  type ServeFit,
  type ServeFormat,
  type Transform,
  transformId,
} from './transform.ts';

/** A size the allowlist permits; an absent side means "this side must be absent from the request". */
export interface AllowedSize {
  readonly width?: number | undefined;
  readonly height?: number | undefined;
}

/** What a URL may ask for. */
export interface ImageUrlRules {
  readonly layout: KeyLayout;
  readonly presets: readonly Preset[];
  /** Largest width or height a request may name (and the cap of a size-less request). */
  readonly maxDimension: number;
  /** When set, only these sizes may be requested; presets are always allowed. */
  readonly allowedSizes?: readonly AllowedSize[] | undefined;
}

/** A parsed, normalised image request: equivalent URLs give equal values. */
export interface ImageRequest {
  /** Key of the original in the media bucket, always under one of the media roots. */
  readonly originalKey: string;
  /** The original's media path (`catalog/product/m/b/mb01.jpg`): names its variant folder. */
  readonly relative: string;
  readonly transform: Transform;
  readonly format: FormatRequest;
  /**
   * What a signature covers, rebuilt from the parse, never cut out of the URL:
   * `<original key>/<transform id>/<format policy>`, the policy being the fixed format
   * (`jpeg`, `png`, `webp`, `avif`) or `auto.<fallback>` when the format is negotiated from Accept
   * (`auto=` or no `format`). The chosen format is a function of the policy and Accept only, so a
   * signature pins the set of encodings it may be served in.
   */
  readonly signedMessage: string;
  /** The `s` parameter, taken from its fixed position (the last parameter) only. */
  readonly signature: string | undefined;
  /** The variant name when the request named one (`/derived/…/<name>`): it must be canonical. */
  readonly variantName?: string | undefined;
}

const bad = (reason: string, message: string) => new ImageRequestError(400, reason, message);

// Sizes: Fastly's absolute form, a positive number (Venia's `height=62.5`), rounded to pixels.
const size = /^(?:[1-9]\d{0,4})(?:\.\d{1,4})?$/;
const valueRules: Readonly<Record<string, RegExp>> = {
  width: size,
  height: size,
  dpr: /^(?:10|[1-9])(?:\.\d{1,4})?$/,
  quality: /^(?:100|[1-9]\d?)$/,
  // Fastly's automatic compression (Magento's Fastly module sends it instead of quality).
  optimize: /^(?:low|medium|high)$/,
  fit: /^(?:bounds|cover|crop)$/,
  format: /^(?:pjpg|jpg|jpeg|png|webp|avif)$/,
  auto: /^(?:webp|avif)$/,
  'bg-color':
    /^(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}|\d{1,3},\d{1,3},\d{1,3}(?:,(?:0|1|0?\.\d{1,4}|1\.0{1,4}))?)$/,
  canvas: /^(?:\d{0,5}[,:]\d{0,5})(?:,(?:offset-)?[xy]\d{1,5}(?:\.\d{1,4})?){0,2}$/,
  preset: /^[a-z0-9][a-z0-9_-]{0,62}$/,
  // Magento adds these for its own bookkeeping; they do not change the picture and are dropped.
  // Store codes: a letter, then letters (any case), digits, `_`, at most 32 (Magento's rule).
  store: /^[A-Za-z][A-Za-z0-9_]{0,31}$/,
  'image-type': /^[a-z][a-z0-9_]{0,63}$/,
  s: /^[A-Za-z0-9_-]{1,100}$/,
};
/** Parameters an empty value means "not given" for (Magento's Fastly module: `height=&width=`). */
const emptyMeansAbsent = new Set(['width', 'height', 'bg-color', 'canvas']);

/** Fastly's `fit` names (what PWA Studio sends) mapped to our geometry. */
const fastlyFit: Readonly<Record<string, ServeFit>> = { bounds: 'inside', cover: 'outside', crop: 'cover' };
const formatParam: Readonly<Record<string, ServeFormat>> = {
  pjpg: 'jpeg',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
};
/** Magento's `cache/<32 hex>/` segment (catalog_media_url_format = hash, its default). */
const magentoCache = /^([a-z0-9_/-]*?\/)cache\/([0-9a-f]{32})\/(.+)$/;

/**
 * Magento's resized swatches (`attribute/swatch/swatch_thumb/110x90/r/e/red.png`, what GraphQL
 * returns and PWA Studio requests with its own query): served from the swatch original.
 */
const magentoSwatch = /^(attribute\/swatch\/)swatch_(?:image|thumb)\/([1-9]\d{0,4})x([1-9]\d{0,4})\/(.+)$/;

/** Values a browser's URLSearchParams percent-encodes (PWA Studio's `bg-color=255%2C255%2C255`). */
const encodedSeparators = new Set(['bg-color', 'canvas']);

/**
 * Parses an image URL strictly into one canonical {@link ImageRequest}. Accepted forms:
 * - `/[media/]<root><path>?width=&height=&dpr=&fit=&quality=&optimize=&format=&auto=&bg-color=&canvas=`
 *   (PWA Studio and Magento's Fastly module, Fastly semantics), `store=`/`image-type=` dropped,
 * - `/[media/]<root><path>?preset=<name>` (imageVariants' presets),
 * - `/[media/]attribute/swatch/swatch_(image|thumb)/<W>x<H>/<path>` (Magento's swatch resizes: the
 *   swatch original, resized as the query asks or else inside W×H),
 * - `/[media/]catalog/product/cache/<32 hex>/<path>` (Magento's hash URL: Magento's rendition, and
 *   a resize query — PWA Studio's — applied on top of it with the rules of the first form),
 * - `/derived/<root><path>/<canonical name>` (what CloudFront falls back with).
 *
 * Never refused for a form the storefront emits: fractional sizes are rounded, oversize boxes are
 * scaled down proportionally to `maxDimension`, empty `width=`/`height=` mean absent. Everything
 * else stays strict: lowercase known names, each at most once, values from closed alphabets, `s`
 * last. Refusals throw {@link ImageRequestError} (400).
 *
 * @example parseImageUrl('/catalog/product/m/b/mb01.jpg', 'auto=webp&format=pjpg&width=640&height=800&fit=cover', rules)
 */
export function parseImageUrl(rawPath: string, rawQuery: string, rules: ImageUrlRules): ImageRequest {
  const path = decodePath(rawPath);
  const params = parseQuery(rawQuery);
  const derivedUrl = derivedUrlPrefix(rules.layout);
  if (path.startsWith(derivedUrl)) return canonicalRequest(path.slice(derivedUrl.length), params, rules);

  const mediaPath = path.startsWith('media/') ? path.slice('media/'.length) : path;
  const hashed = magentoCache.exec(mediaPath);
  if (hashed) return magentoRequest(hashed, params, rules);
  const swatch = magentoSwatch.exec(mediaPath);
  const relative = swatch ? `${swatch[1]}${swatch[4]}` : mediaPath;
  if (swatch && !params.has('width') && !params.has('height') && !params.has('preset')) {
    // Magento's own swatch resize (`swatch_thumb/110x90/…`) asked as such: that box, fitted inside.
    params.set('width', swatch[2] ?? '');
    params.set('height', swatch[3] ?? '');
  }
  checkRoot(rules.layout, rootOf(relative, rules.layout) !== undefined);
  const transform = transformOf(params, rules);
  checkAllowed(transform, rules);
  return request(relative, transform, formatOf(params, relative), params, rules);
}

function checkRoot(layout: KeyLayout, inside: boolean): void {
  if (!inside) throw bad('outside-originals', `only images under /${layout.roots.join(', /')} are served`);
}

/** `<media path>/<canonical name>` below the derived URL prefix: one variant, its one format. */
function canonicalRequest(rest: string, params: Map<string, string>, rules: ImageUrlRules): ImageRequest {
  const extra = [...params.keys()].filter((k) => k !== 's');
  if (extra.length > 0) throw bad('canonical-with-params', 'a canonical variant path takes no parameters');
  const slash = rest.lastIndexOf('/');
  const name = rest.slice(slash + 1);
  const parsed = parseVariantName(name, rules.presets);
  if (parsed === undefined) throw bad('bad-variant-name', 'not a canonical variant name');
  checkAllowed(parsed.transform, rules);
  const format: FormatRequest = { kind: 'fixed', format: parsed.format };
  return { ...request(rest.slice(0, slash), parsed.transform, format, params, rules), variantName: name };
}

/**
 * Magento's own resized-image URL: the hash names Magento's rendition (its size, frame, colour). A
 * resize query (PWA Studio's makeUrl appends one) applies on top of that rendition, as Fastly image
 * optimisation applies it to the file Magento wrote for the hash: the same rules as on a params URL
 * (dpr, rounding, the size cap, no upscaling beyond Magento's size). A query that changes nothing
 * of the picture (`auto`, `format`, `store`, `image-type`, `optimize`, a lone `dpr` or `fit`) leaves
 * exactly Magento's rendition, the `cache.<hash>` variant imageVariants pre-generates.
 */
function magentoRequest(
  hashed: RegExpExecArray,
  params: Map<string, string>,
  rules: ImageUrlRules,
): ImageRequest {
  const [, root = '', hash = '', rest = ''] = hashed;
  const relative = `${root}${rest}`;
  checkRoot(rules.layout, rules.layout.roots.includes(root));
  if (params.has('preset'))
    throw bad('preset-with-hash', 'preset cannot be combined with a Magento cache URL');
  const transform = magentoTransform(hash, resizeOf(params, rules));
  checkAllowed(transform, rules);
  return request(relative, transform, formatOf(params, relative), params, rules);
}

/**
 * The URL path variants are asked for under (the CloudFront function rewrites to it, and the S3
 * origin's OriginPath is the storage prefix): the derived prefix without the storage prefix that
 * precedes Magento's `media/`, so `shop/derived/` is `derived/` in URLs when media is `shop/media/`.
 */
export function derivedUrlPrefix(layout: KeyLayout): string {
  const storage = layout.mediaPrefix.endsWith('media/') ? layout.mediaPrefix.slice(0, -'media/'.length) : '';
  return storage !== '' && layout.derivedPrefix.startsWith(storage)
    ? layout.derivedPrefix.slice(storage.length)
    : layout.derivedPrefix;
}

/** `format` without `auto`: exactly that format; otherwise negotiated with `format` (or the original's kind) as the fallback. */
function formatOf(params: ReadonlyMap<string, string>, relative: string): FormatRequest {
  const format = params.get('format');
  const fallback: ServeFormat = format
    ? (formatParam[format] ?? 'jpeg')
    : /\.png$/i.test(relative)
      ? 'png'
      : 'jpeg';
  return format !== undefined && !params.has('auto')
    ? { kind: 'fixed', format: fallback }
    : { kind: 'negotiate', fallback };
}

/** The signed name of a format policy: the fixed format, or `auto.<fallback>`. */
const formatPolicy = (format: FormatRequest): string =>
  format.kind === 'fixed' ? format.format : `auto.${format.fallback}`;

function request(
  relative: string,
  transform: Transform,
  format: FormatRequest,
  params: ReadonlyMap<string, string>,
  rules: ImageUrlRules,
): ImageRequest {
  checkRelative(relative);
  const originalKey = originalKeyOf(relative, rules.layout);
  if (classifyKey(originalKey, rules.layout).kind !== 'original') {
    throw bad('not-an-original', 'the path does not name an original image');
  }
  return {
    originalKey,
    relative,
    transform,
    format,
    signedMessage: `${originalKey}/${transformId(transform)}/${formatPolicy(format)}`,
    signature: params.get('s'),
  };
}

function transformOf(params: ReadonlyMap<string, string>, rules: ImageUrlRules): Transform {
  const preset = params.get('preset');
  if (preset !== undefined) {
    const resizing = ['width', 'height', 'dpr', 'fit', 'quality', 'optimize', 'bg-color', 'canvas'].filter(
      (k) => params.has(k),
    );
    if (resizing.length > 0) throw bad('preset-with-size', `preset cannot be combined with ${resizing[0]}`);
    const found = rules.presets.find((p) => p.name === preset);
    if (found === undefined) throw bad('unknown-preset', `unknown preset "${preset}"`);
    return { kind: 'preset', preset: found };
  }
  return resizeOf(params, rules);
}

/** The Fastly-style resize a query asks for (no preset). */
function resizeOf(params: ReadonlyMap<string, string>, rules: ImageUrlRules): ResizeTransform {
  const { width, height } = boxOf(params, rules.maxDimension);
  const fit = params.get('fit');
  const quality = params.get('quality');
  return {
    kind: 'resize',
    width,
    height,
    // Fastly ignores `fit` unless both sides are given: a single side always scales proportionally.
    fit:
      width !== undefined && height !== undefined && fit !== undefined
        ? (fastlyFit[fit] ?? 'inside')
        : 'inside',
    // `optimize` (automatic compression) leaves the quality to the configured default.
    quality: quality === undefined ? undefined : Number(quality),
    background: backgroundOf(params.get('bg-color')),
    canvas: canvasOf(params.get('canvas'), rules.maxDimension),
  };
}

/**
 * The box in output pixels: each side times `dpr`, rounded half up (Fastly takes whole pixels:
 * `height=62.5` is 63), then — when a side exceeds `maxDimension` — both scaled down by one factor
 * so the aspect ratio is kept (Venia's `2560×3200` is `2048×2560`). Never a refusal.
 */
function boxOf(
  params: ReadonlyMap<string, string>,
  maxDimension: number,
): { width?: number; height?: number } {
  const dpr = Number(params.get('dpr') ?? '1');
  const raw = (name: string) => {
    const value = params.get(name);
    return value === undefined ? undefined : Number(value) * dpr;
  };
  const width = raw('width');
  const height = raw('height');
  const scale = Math.min(1, maxDimension / Math.max(width ?? 0, height ?? 0));
  const side = (v: number | undefined) =>
    v === undefined ? undefined : Math.min(maxDimension, Math.max(1, Math.round(v * scale)));
  return { width: side(width), height: side(height) };
}

/** Fastly `bg-color`: hex (3, 6 or 8 digits) or `r,g,b[,a]` with `a` from 0 to 1. */
function backgroundOf(value: string | undefined): Rgba | undefined {
  if (value === undefined) return undefined;
  if (value.includes(',')) {
    const [r = 0, g = 0, b = 0, a = 1] = value.split(',').map(Number);
    if (r > 255 || g > 255 || b > 255) throw bad('bad-value', 'invalid value for "bg-color"');
    return { r, g, b, alpha: Math.round(a * 255) };
  }
  const hex = value.length === 3 ? [...value].map((c) => c + c).join('') : value;
  const byte = (i: number) => Number.parseInt(hex.slice(i, i + 2), 16);
  return { r: byte(0), g: byte(2), b: byte(4), alpha: hex.length === 8 ? byte(6) : 255 };
}

/**
 * Fastly `canvas`: `W,H` pixels or `W:H` ratio, then optional `x<px>`/`offset-x<%>` and
 * `y<px>`/`offset-y<%>`. A side left empty (`canvas=240:`, what Magento's module writes for a
 * view.xml image without a height) means no canvas. Pixel sizes are capped at `maxDimension`.
 */
function canvasOf(value: string | undefined, maxDimension: number): CanvasSpec | undefined {
  const m = value === undefined ? null : /^(\d*)([,:])(\d*)(?:,(.*))?$/.exec(value);
  if (!m || m[1] === '' || m[3] === '') return undefined;
  const mode = m[2] === ':' ? 'ratio' : 'pixels';
  const width = Number(m[1]);
  const height = Number(m[3]);
  if (width < 1 || height < 1) throw bad('bad-value', 'invalid value for "canvas"');
  const positions = new Map<string, CanvasPosition>();
  for (const position of m[4] === undefined ? [] : m[4].split(',')) {
    const p = /^(offset-)?([xy])(.+)$/.exec(position);
    const axis = p?.[2] ?? '';
    if (positions.has(axis)) throw bad('bad-value', 'canvas position given twice');
    const at = Number(p?.[3]);
    positions.set(axis, p?.[1] ? { offset: Math.round(Math.min(100, at)) } : { px: Math.round(at) });
  }
  const cap = (v: number) => (mode === 'pixels' ? Math.min(maxDimension, v) : v);
  return { mode, width: cap(width), height: cap(height), x: positions.get('x'), y: positions.get('y') };
}

/** The allowlist holds for every resize, also one on top of a Magento hash; presets and bare hashes pass. */
function checkAllowed(transform: Transform, rules: ImageUrlRules): void {
  const resize = transform.kind === 'magento' ? transform.resize : transform;
  if (resize?.kind !== 'resize' || rules.allowedSizes === undefined) return;
  const allowed = rules.allowedSizes.some((s) => s.width === resize.width && s.height === resize.height);
  if (!allowed) throw bad('size-not-allowed', 'this size is not in the list of allowed sizes');
}

/**
 * Splits the raw query strictly: no empty segments, lowercase known names, each at most once,
 * values from a closed alphabet (so no percent-encoding, no second spelling of a value), and the
 * signature `s` — if present — as the last parameter.
 */
function parseQuery(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  const absent = new Set<string>();
  if (rawQuery === '') return params;
  if (rawQuery.length > 512) throw bad('query-too-long', 'the query string is too long');
  const parts = rawQuery.split('&');
  for (const [index, part] of parts.entries()) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad('malformed-query', 'malformed query string');
    const name = part.slice(0, eq);
    const raw = part.slice(eq + 1);
    // The one escape accepted: `,`/`:` of the two list-valued parameters, decoded to one spelling.
    const value = encodedSeparators.has(name) ? raw.replace(/%2C/gi, ',').replace(/%3A/gi, ':') : raw;
    if (params.has(name) || absent.has(name))
      throw bad('duplicate-parameter', `parameter "${name}" given twice`);
    if (checkParam(name, value, index === parts.length - 1)) params.set(name, value);
    else absent.add(name);
  }
  return params;
}

/** Validates one parameter; false when its empty value means "not given". */
function checkParam(name: string, value: string, last: boolean): boolean {
  const rule = valueRules[name];
  if (rule === undefined || !Object.hasOwn(valueRules, name)) {
    throw bad('unknown-parameter', `unknown parameter "${name.slice(0, 32)}"`);
  }
  if (value === '' && emptyMeansAbsent.has(name)) return false;
  if (!rule.test(value)) throw bad('bad-value', `invalid value for "${name}"`);
  if (name === 's' && !last) throw bad('signature-not-last', 's must be the last parameter');
  return true;
}

/**
 * Decodes the path exactly once, refusing what could make it name something else: absolute or
 * protocol-relative URLs, encoded slashes or backslashes, NUL and control characters, and `.`/`..`
 * or empty segments. Returns the key-like path without its leading `/`.
 */
function decodePath(rawPath: string): string {
  if (!rawPath.startsWith('/') || rawPath.startsWith('//'))
    throw bad('bad-path', 'the path must be a local path');
  if (rawPath.length > 1024) throw bad('path-too-long', 'the path is too long');
  if (/%(?:2f|5c|00)/i.test(rawPath)) throw bad('encoded-separator', 'encoded slashes are not accepted');
  let path: string;
  try {
    path = decodeURIComponent(rawPath.slice(1));
  } catch (error) {
    throw new ImageRequestError(400, 'bad-encoding', 'malformed percent-encoding in the path', {
      cause: error,
    });
  }
  if ([...path].some(forbiddenInKey)) throw bad('bad-path', 'the path contains forbidden characters');
  return path;
}

/** Control characters and backslashes: never part of a product image's key. */
const forbiddenInKey = (char: string): boolean => {
  const code = char.charCodeAt(0);
  return code < 0x20 || code === 0x7f || char === '\\';
};

function checkRelative(relative: string): void {
  const segments = relative.split('/');
  if (relative === '' || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw bad('bad-path', 'the path has empty, "." or ".." segments');
  }
  if (Buffer.byteLength(relative) > 800) throw bad('path-too-long', 'the path is too long');
}
