// CloudFront Function (runtime cloudfront-js-2.0), viewer request, on the product-image behaviour.
//
// 1. Normalises Accept to one of four values, so the cache key (which includes Accept) is not split
//    by how browsers spell it.
// 2. Rewrites a valid image URL to its canonical variant key under the derived prefix, e.g.
//    /media/catalog/product/m/b/x.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover
//    → /derived/catalog/product/m/b/x.jpg/w640.h800.outside.webp  (query: only the signature `s`)
//    so the origin group's primary, the S3 bucket, answers every variant made before, and only a
//    miss falls back to the imageServe function URL, which parses the same canonical path.
//    Anything this function does not recognise is passed through unchanged: imageServe refuses it.
//
// It mirrors lib/images/imageUrl.ts + accept.ts + transform.ts; test/unit/images/cloudfrontFunction.test.ts
// checks that both give the same key. Keep the constants equal to the function's environment.
// Deployed from serverless.yml as a raw string (this file is not a module of the app).
const ORIGINALS = '/catalog/product/';
const DERIVED = '/derived/catalog/product/';
const MAX_DIMENSION = 2560;
const AVIF_MAX_PIXELS = 250000;

const rules = {
  width: /^[1-9]\d{0,4}$/,
  height: /^[1-9]\d{0,4}$/,
  quality: /^(?:100|[1-9]\d?)$/,
  fit: /^(?:bounds|cover|crop)$/,
  format: /^(?:pjpg|jpg|jpeg|png|webp|avif)$/,
  auto: /^(?:webp|avif)$/,
  preset: /^[a-z0-9][a-z0-9_-]{0,62}$/,
  store: /^[a-z][a-z0-9_]{0,31}$/,
  'image-type': /^[a-z][a-z0-9_]{0,63}$/,
  s: /^[A-Za-z0-9_-]{1,100}$/,
};
const fits = { bounds: 'inside', cover: 'outside', crop: 'cover' };
const formats = { pjpg: 'jpg', jpg: 'jpg', jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };

/** The q-value of one Accept entry's parameters (after the media type); 1 when absent. */
function acceptWeight(fields) {
  let weight = 1;
  for (let j = 1; j < fields.length; j++) {
    const p = fields[j].trim().toLowerCase();
    if (/^q\s*=/.test(p)) weight = Number(p.replace(/^q\s*=\s*/, ''));
  }
  return weight;
}

function normalisedAccept(header) {
  let avif = false;
  let webp = false;
  const entries = header.slice(0, 1024).split(',');
  for (let i = 0; i < entries.length; i++) {
    const fields = entries[i].split(';');
    const type = fields[0].trim().toLowerCase();
    if (!(acceptWeight(fields) > 0)) continue;
    if (type === 'image/avif') avif = true;
    if (type === 'image/webp') webp = true;
  }
  if (avif && webp) return 'image/avif,image/webp';
  if (avif) return 'image/avif';
  if (webp) return 'image/webp';
  return '*/*';
}

/** The original's path below ORIGINALS, still encoded, or null when the URI is not under it. */
function originalRelative(uri) {
  const path = uri.indexOf(`/media${ORIGINALS}`) === 0 ? uri.slice('/media'.length) : uri;
  if (path.indexOf(ORIGINALS) !== 0 || path.length > 1024) return null;
  const relative = path.slice(ORIGINALS.length);
  return /%(?:2f|5c|00)/i.test(relative) ? null : relative;
}

/** The decoded relative path, or null when it does not decode or could escape its folder. */
function decodedPath(relative) {
  let decoded;
  try {
    decoded = decodeURIComponent(relative);
  } catch (_error) {
    return null;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) return null;
  const segments = decoded.split('/');
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === '' || segments[i] === '.' || segments[i] === '..') return null;
  }
  return decoded;
}

/** The query's parameters by name, or null when one is unknown, repeated or malformed. */
function imageParams(querystring) {
  const params = {};
  const names = Object.keys(querystring);
  for (let n = 0; n < names.length; n++) {
    const name = names[n];
    const entry = querystring[name];
    if (Object.keys(rules).indexOf(name) < 0 || entry.multiValue || !rules[name].test(entry.value))
      return null;
    params[name] = entry.value;
  }
  return params;
}

/** The variant id of a resize (`w640.h800.outside.q80`) and its box in pixels, or null when too large. */
function resizeVariant(params) {
  const width = params.width === undefined ? undefined : Number(params.width);
  const height = params.height === undefined ? undefined : Number(params.height);
  if (width > MAX_DIMENSION || height > MAX_DIMENSION) return null;
  const both = width !== undefined && height !== undefined;
  const parts = [];
  if (width !== undefined) parts.push(`w${width}`);
  if (height !== undefined) parts.push(`h${height}`);
  if (parts.length === 0) parts.push('full');
  parts.push(both && params.fit ? fits[params.fit] : 'inside');
  if (params.quality !== undefined) parts.push(`q${params.quality}`);
  const w = width === undefined ? height : width;
  const h = height === undefined ? width : height;
  return { id: parts.join('.'), avifAllowed: w === undefined ? false : w * h <= AVIF_MAX_PIXELS };
}

/** The variant id and whether AVIF may be chosen for it, or null for a preset mixed with resize parameters. */
function variantOf(params) {
  if (params.preset === undefined) return resizeVariant(params);
  if (params.width || params.height || params.fit || params.quality) return null;
  return { id: params.preset, avifAllowed: true };
}

/** The requested format, or with `auto` (or none asked for) the best the normalised Accept allows. */
function extensionFor(params, decoded, avifAllowed, accept) {
  const fallback = params.format ? formats[params.format] : /\.png$/i.test(decoded) ? 'png' : 'jpg';
  if (params.format !== undefined && params.auto === undefined)
    return fallback === 'avif' && !avifAllowed ? 'webp' : fallback;
  if (accept.indexOf('image/avif') >= 0 && avifAllowed) return 'avif';
  if (accept.indexOf('image/webp') >= 0) return 'webp';
  return fallback;
}

function canonical(uri, querystring, accept) {
  const relative = originalRelative(uri);
  const decoded = relative === null ? null : decodedPath(relative);
  const params = decoded === null ? null : imageParams(querystring);
  const variant = params === null ? null : variantOf(params);
  if (variant === null) return null;
  const extension = extensionFor(params, decoded, variant.avifAllowed, accept);
  return { uri: `${DERIVED + relative}/${variant.id}.${extension}`, signature: params.s };
}

// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls `handler` by name.
function handler(event) {
  const request = event.request;
  const accept = normalisedAccept(request.headers.accept ? request.headers.accept.value : '');
  request.headers.accept = { value: accept };
  const rewritten = canonical(request.uri, request.querystring, accept);
  if (rewritten) {
    request.uri = rewritten.uri;
    request.querystring = rewritten.signature ? { s: { value: rewritten.signature } } : {};
  }
  return request;
}
