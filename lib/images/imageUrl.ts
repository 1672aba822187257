import type { FormatRequest } from './accept.ts';
import { ImageRequestError } from './errors.ts';
import { classifyKey, type KeyLayout, originalKeyOf, rootOf } from './keyLayout.ts';
import type { Preset } from './presets.ts';
import {
  parseVariantName,
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
  /** What a signature covers: the original's key and the transform — rebuilt from the parse, never cut out of the URL. */
  readonly signedMessage: string;
  /** The `s` parameter, taken from its fixed position (the last parameter) only. */
  readonly signature: string | undefined;
}

const bad = (reason: string, message: string) => new ImageRequestError(400, reason, message);

const side = /^[1-9]\d{0,4}$/;
const valueRules: Readonly<Record<string, RegExp>> = {
  width: side,
  height: side,
  quality: /^(?:100|[1-9]\d?)$/,
  fit: /^(?:bounds|cover|crop)$/,
  format: /^(?:pjpg|jpg|jpeg|png|webp|avif)$/,
  auto: /^(?:webp|avif)$/,
  preset: /^[a-z0-9][a-z0-9_-]{0,62}$/,
  // Magento 2.4 adds these for its own bookkeeping; they do not change the picture and are dropped.
  store: /^[a-z][a-z0-9_]{0,31}$/,
  'image-type': /^[a-z][a-z0-9_]{0,63}$/,
  s: /^[A-Za-z0-9_-]{1,100}$/,
};

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

/**
 * Parses an image URL strictly into one canonical {@link ImageRequest}. Accepted forms:
 * - `/[media/]catalog/product/<path>?width=&height=&fit=&quality=&format=&auto=` (PWA Studio, Fastly `fit`),
 * - `/[media/]catalog/product/<path>?width=&height=&store=&image-type=` (Magento 2.4),
 * - `/[media/]catalog/product/<path>?preset=<name>` (imageVariants' presets),
 * - `/derived/catalog/product/<path>/<canonical name>` (what CloudFront falls back with).
 *
 * Every parameter is lowercase, appears at most once, and has one spelling per value (`width=0640`,
 * `1e3`, `%31` are refused); unknown parameters are refused; `s` must be the last. Refusals throw
 * {@link ImageRequestError}: 400, or 413 for a size over `maxDimension`.
 *
 * @example parseImageUrl('/catalog/product/m/b/mb01.jpg', 'auto=webp&format=pjpg&width=640&height=800&fit=cover', rules)
 */
export function parseImageUrl(rawPath: string, rawQuery: string, rules: ImageUrlRules): ImageRequest {
  const path = decodePath(rawPath);
  const params = parseQuery(rawQuery);
  const { layout } = rules;

  if (path.startsWith(layout.derivedPrefix)) {
    const extra = [...params.keys()].filter((k) => k !== 's');
    if (extra.length > 0) throw bad('canonical-with-params', 'a canonical variant path takes no parameters');
    const slash = path.lastIndexOf('/');
    const relative = path.slice(layout.derivedPrefix.length, slash);
    const parsed = parseVariantName(path.slice(slash + 1), rules.presets);
    if (parsed === undefined) throw bad('bad-variant-name', 'not a canonical variant name');
    checkAllowed(parsed.transform, rules);
    return request(relative, parsed.transform, { kind: 'fixed', format: parsed.format }, params, rules);
  }

  const relative = path.startsWith('media/') ? path.slice('media/'.length) : path;
  if (rootOf(relative, layout) === undefined) {
    throw bad('outside-originals', `only images under /${layout.roots.join(', /')} are served`);
  }
  const transform = transformOf(params, rules);
  checkAllowed(transform, rules);
  const format = params.get('format');
  const fallback: ServeFormat = format
    ? (formatParam[format] ?? 'jpeg')
    : /\.png$/i.test(relative)
      ? 'png'
      : 'jpeg';
  const formatRequest: FormatRequest =
    format !== undefined && !params.has('auto')
      ? { kind: 'fixed', format: fallback }
      : { kind: 'negotiate', fallback };
  return request(relative, transform, formatRequest, params, rules);
}

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
    signedMessage: `${originalKey}/${transformId(transform)}`,
    signature: params.get('s'),
  };
}

function transformOf(params: ReadonlyMap<string, string>, rules: ImageUrlRules): Transform {
  const preset = params.get('preset');
  if (preset !== undefined) {
    const resizing = ['width', 'height', 'fit', 'quality'].filter((k) => params.has(k));
    if (resizing.length > 0) throw bad('preset-with-size', `preset cannot be combined with ${resizing[0]}`);
    const found = rules.presets.find((p) => p.name === preset);
    if (found === undefined) throw bad('unknown-preset', `unknown preset "${preset}"`);
    return { kind: 'preset', preset: found };
  }
  const width = numberParam(params, 'width');
  const height = numberParam(params, 'height');
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
    quality: quality === undefined ? undefined : Number(quality),
  };
}

function numberParam(params: ReadonlyMap<string, string>, name: string): number | undefined {
  const raw = params.get(name);
  return raw === undefined ? undefined : Number(raw);
}

function checkAllowed(transform: Transform, rules: ImageUrlRules): void {
  if (transform.kind === 'preset') return;
  for (const side of [transform.width, transform.height]) {
    if (side !== undefined && side > rules.maxDimension) {
      throw new ImageRequestError(413, 'dimension-too-large', `sizes are limited to ${rules.maxDimension}`);
    }
  }
  if (rules.allowedSizes === undefined) return;
  const allowed = rules.allowedSizes.some(
    (s) => s.width === transform.width && s.height === transform.height,
  );
  if (!allowed) throw bad('size-not-allowed', 'this size is not in the list of allowed sizes');
}

/**
 * Splits the raw query strictly: no empty segments, lowercase known names, each at most once,
 * values from a closed alphabet (so no percent-encoding, no second spelling of a value), and the
 * signature `s` — if present — as the last parameter.
 */
function parseQuery(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  if (rawQuery === '') return params;
  if (rawQuery.length > 512) throw bad('query-too-long', 'the query string is too long');
  const parts = rawQuery.split('&');
  for (const [index, part] of parts.entries()) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad('malformed-query', 'malformed query string');
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    const rule = valueRules[name];
    if (rule === undefined || !Object.hasOwn(valueRules, name)) {
      throw bad('unknown-parameter', `unknown parameter "${name.slice(0, 32)}"`);
    }
    if (params.has(name)) throw bad('duplicate-parameter', `parameter "${name}" given twice`);
    if (!rule.test(value)) throw bad('bad-value', `invalid value for "${name}"`);
    if (name === 's' && index !== parts.length - 1)
      throw bad('signature-not-last', 's must be the last parameter');
    params.set(name, value);
  }
  return params;
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
