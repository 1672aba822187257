// CloudFront Function (cloudfront-js-2.0), viewer request. Mirrors lib/images/imageUrl.ts, transform.ts,
// accept.ts (test/unit/images/cloudfrontFunction.test.ts checks both give the same key); keep the
// constants equal to imageServe's environment. A valid URL becomes its canonical key (query empty,
// so only the transform and chosen format key the cache) plus an x-image-request header holding the
// viewer's request rebuilt from the parameters that matter, `s` last, for imageServe to verify again.
// With `signing-keys` in the KeyValueStore, an unsigned or wrongly signed request is a 403 here,
// before the cache and S3. Anything else passes unchanged for imageServe to refuse. See serverless.yml.
import cf from 'cloudfront';
// biome-ignore lint/style/useNodejsImportProtocol: the CloudFront Functions runtime names it `crypto`.
import crypto from 'crypto';

const MEDIA_PREFIX = '';
const ROOTS = ['catalog/product/', 'catalog/category/', 'attribute/swatch/', 'wysiwyg/'];
const DERIVED = 'derived/';
const MAX = 2560;
const AVIF_MAX_PIXELS = 250000;
const QUALITY = { jpeg: 80, webp: 80, avif: 50 };

const size = /^[1-9]\d{0,4}(?:\.\d{1,4})?$/;
const rules = {
  width: size,
  height: size,
  dpr: /^(?:10|[1-9])(?:\.\d{1,4})?$/,
  quality: /^(?:100|[1-9]\d?)$/,
  optimize: /^(?:low|medium|high)$/,
  fit: /^(?:bounds|cover|crop)$/,
  format: /^(?:pjpg|jpg|jpeg|png|webp|avif)$/,
  auto: /^(?:webp|avif)$/,
  'bg-color':
    /^(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}|\d{1,3},\d{1,3},\d{1,3}(?:,(?:0|1|0?\.\d{1,4}|1\.0{1,4}))?)$/,
  canvas: /^(?:\d{0,5}[,:]\d{0,5})(?:,(?:offset-)?[xy]\d{1,5}(?:\.\d{1,4})?){0,2}$/,
  preset: /^[a-z0-9][a-z0-9_-]{0,62}$/,
  store: /^[A-Za-z][A-Za-z0-9_]{0,31}$/,
  'image-type': /^[a-z][a-z0-9_]{0,63}$/,
  s: /^[A-Za-z0-9_-]{1,100}$/,
};
const EMPTY_IS_ABSENT = ['width', 'height', 'bg-color', 'canvas'];
const FITS = { bounds: 'inside', cover: 'outside', crop: 'cover' };
const FORMATS = { pjpg: 'jpeg', jpg: 'jpeg', jpeg: 'jpeg', png: 'png', webp: 'webp', avif: 'avif' };
const EXT = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };

function weightOf(fields) {
  let q = 1;
  for (let j = 1; j < fields.length; j++) {
    const p = fields[j].trim().toLowerCase();
    if (/^q\s*=/.test(p)) q = Number(p.replace(/^q\s*=\s*/, ''));
  }
  return q;
}

function normalisedAccept(header) {
  const on = {};
  const entries = header.slice(0, 1024).split(',');
  for (let i = 0; i < entries.length; i++) {
    const fields = entries[i].split(';');
    if (weightOf(fields) > 0) on[fields[0].trim().toLowerCase()] = true;
  }
  const types = ['image/avif', 'image/webp'].filter((t) => on[t]);
  return types.length ? types.join(',') : '*/*';
}

function decoded(path) {
  if (path.length > 1024 || /%(?:2f|5c|00)/i.test(path)) return null;
  let d;
  try {
    d = decodeURIComponent(path);
  } catch (_e) {
    return null;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f\\]/.test(d) || d.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return null;
  return d;
}

function paramsOf(qs) {
  const p = {};
  const names = Object.keys(qs);
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    let v = qs[n].value;
    if (!rules[n] || qs[n].multiValue || (n === 's' && i !== names.length - 1)) return null;
    if (n === 'bg-color' || n === 'canvas') v = v.replace(/%2C/gi, ',').replace(/%3A/gi, ':');
    if (v === '' && EMPTY_IS_ABSENT.indexOf(n) >= 0) continue;
    if (!rules[n].test(v)) return null;
    p[n] = v;
  }
  return p;
}

const hex2 = (n) => (n < 16 ? '0' : '') + n.toString(16);
const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));

function bgId(v) {
  let c;
  if (v.indexOf(',') >= 0) {
    c = v.split(',').map(Number);
    if (c[0] > 255 || c[1] > 255 || c[2] > 255) return null;
    c[3] = Math.round((c.length > 3 ? c[3] : 1) * 255);
  } else {
    const h = v.length === 3 ? v.replace(/./g, '$&$&') : v;
    c = [0, 2, 4, 6].map((i) => (i < h.length ? parseInt(h.slice(i, i + 2), 16) : 255));
  }
  return `bg${hex2(c[0])}${hex2(c[1])}${hex2(c[2])}${c[3] === 255 ? '' : hex2(c[3])}`.toLowerCase();
}

function positionsOf(list) {
  const at = {};
  for (let i = 0; i < list.length; i++) {
    const p = /^(offset-)?([xy])(.+)$/.exec(list[i]);
    if (at[p[2]] !== undefined) return null;
    const n = Math.round(p[1] ? Math.min(100, Number(p[3])) : Number(p[3]));
    at[p[2]] = p[1] ? (n === 50 ? '' : `o${p[2]}${n}`) : `${p[2]}${n}`;
  }
  return [at.x, at.y].filter(Boolean);
}

function canvasOf(v) {
  const m = /^(\d*)([,:])(\d*)(?:,(.*))?$/.exec(v || '');
  if (!m || m[1] === '' || m[3] === '') return { parts: [], px: 0 };
  const ratio = m[2] === ':';
  const w = ratio ? Number(m[1]) : Math.min(MAX, Number(m[1]));
  const h = ratio ? Number(m[3]) : Math.min(MAX, Number(m[3]));
  const at = positionsOf(m[4] === undefined ? [] : m[4].split(','));
  if (w < 1 || h < 1 || at === null) return null;
  const g = ratio ? gcd(w, h) : 1;
  return { parts: [`${ratio ? 'a' : 'c'}${w / g}x${h / g}`].concat(at), px: ratio ? 0 : w * h };
}

function boxOf(p) {
  const dpr = Number(p.dpr || 1);
  const w = p.width === undefined ? undefined : Number(p.width) * dpr;
  const h = p.height === undefined ? undefined : Number(p.height) * dpr;
  const scale = Math.min(1, MAX / Math.max(w || 0, h || 0));
  const side = (v) => (v === undefined ? undefined : Math.min(MAX, Math.max(1, Math.round(v * scale))));
  return { w: side(w), h: side(h) };
}

function sizeParts(w, h, fit) {
  const sides = [w === undefined ? '' : `w${w}`, h === undefined ? '' : `h${h}`].filter(Boolean);
  const fitted = sides.length === 2 && fit ? FITS[fit] : 'inside';
  return (sides.length ? sides : ['full']).concat(fitted);
}

function transformOf(p) {
  if (p.preset !== undefined) {
    const sized = ['width', 'height', 'dpr', 'fit', 'quality', 'optimize', 'bg-color', 'canvas'];
    return sized.some((n) => p[n] !== undefined) ? null : { id: p.preset, avif: true };
  }
  const b = boxOf(p);
  const w = b.w;
  const h = b.h;
  const parts = sizeParts(w, h, p.fit);
  const bg = p['bg-color'] === undefined ? '' : bgId(p['bg-color']);
  const canvas = canvasOf(p.canvas);
  if (bg === null || canvas === null) return null;
  const box = w === undefined && h === undefined ? Infinity : (w || h) * (h || w);
  return {
    parts,
    tail: (bg ? [bg] : []).concat(canvas.parts),
    quality: p.quality,
    avif: Math.max(box, canvas.px) <= AVIF_MAX_PIXELS,
  };
}

// A Magento hash with a resize on top is `cache.<hash>.<resize id>`; one that changes nothing is the hash alone.
function idOf(t, quality) {
  if (!t.parts) return t.id;
  const id = t.parts.concat(quality === undefined ? [] : [`q${quality}`], t.tail).join('.');
  return t.hash ? `cache.${t.hash}${id === 'full.inside' ? '' : `.${id}`}` : id;
}

function formatOf(p, media, accept, avifOk) {
  const fallback = p.format ? FORMATS[p.format] : /\.png$/i.test(media) ? 'png' : 'jpeg';
  if (p.format !== undefined && p.auto === undefined) {
    return { policy: fallback, chosen: fallback === 'avif' && !avifOk ? 'webp' : fallback };
  }
  const chosen =
    accept.indexOf('image/avif') >= 0 && avifOk
      ? 'avif'
      : accept.indexOf('image/webp') >= 0
        ? 'webp'
        : fallback;
  return { policy: `auto.${fallback}`, chosen };
}

const HASH = /^(catalog\/product\/)cache\/([0-9a-f]{32})\/(.+)$/;
const SWATCH = /^(attribute\/swatch\/)swatch_(?:image|thumb)\/([1-9]\d{0,4})x([1-9]\d{0,4})\/(.+)$/;
const GENERATED = /^(?:catalog\/product\/cache|attribute\/swatch\/swatch_(?:image|thumb))\//;

/** The original a media path names (Magento's resized paths cut down to it) and the transform asked. */
function originalOf(path, media, p) {
  const hash = HASH.exec(media);
  const swatch = hash ? null : SWATCH.exec(media);
  const m = hash || swatch;
  const tail = m ? m[m.length - 1] : media;
  const cut = media.length - tail.length;
  if (path.slice(0, cut) !== media.slice(0, cut)) return null;
  const root = m ? m[1] : '';
  if (swatch && !p.width && !p.height && !p.preset) {
    p.width = swatch[2];
    p.height = swatch[3];
  }
  // A resize query applies on top of Magento's rendition; a preset has no parts and is refused. Without
  // a size the box is unbounded, so never AVIF: Magento's sizes come pre-generated as JPEG and WebP only.
  const t = transformOf(p);
  if (hash && t) t.hash = t.parts ? hash[2] : null;
  return { relative: root + tail, raw: root + path.slice(cut), t: t && (!hash || t.hash) ? t : null };
}

function forwarded(uri, p) {
  const keep = ['width', 'height', 'dpr', 'fit', 'quality', 'format', 'auto', 'bg-color', 'canvas', 'preset'];
  const query = keep.filter((n) => p[n] !== undefined).map((n) => `${n}=${p[n]}`);
  if (p.s !== undefined) query.push(`s=${p.s}`);
  return uri + (query.length ? `?${query.join('&')}` : '');
}

function canonical(uri, qs, accept) {
  const p = paramsOf(qs);
  const path = uri.indexOf('/media/') === 0 ? uri.slice(7) : uri.slice(1);
  const media = p && decoded(path);
  const o = media && originalOf(path, media, p);
  const t = o ? o.t : null;
  const under = (r) => o.relative.indexOf(r) === 0 && o.relative.length > r.length;
  if (!t || !ROOTS.some(under) || GENERATED.test(o.relative)) return null;
  const f = formatOf(p, o.relative, accept, t.avif);
  // Explicit quality equal to the chosen format's default (or any, for PNG) is that default: one key.
  const q = f.chosen === 'png' || Number(t.quality) === QUALITY[f.chosen] ? undefined : t.quality;
  return {
    uri: `/${DERIVED}${o.raw}/${idOf(t, q)}.${EXT[f.chosen]}`,
    message: `${MEDIA_PREFIX + o.relative}/${idOf(t, t.quality)}/${f.policy}`,
    signature: p.s,
    viewer: forwarded(uri, p),
  };
}

function canonicalPathMessage(uri) {
  const path = uri.indexOf(`/${DERIVED}`) === 0 ? decoded(uri.slice(DERIVED.length + 1)) : null;
  const m = path && /^(.+)\/([^/]+)\.(jpg|png|webp|avif)$/.exec(path);
  return m ? `${MEDIA_PREFIX + m[1]}/${m[2]}/${m[3] === 'jpg' ? 'jpeg' : m[3]}` : null;
}

function signed(keys, message, signature) {
  if (!signature || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
  let ok = false;
  for (let i = 0; i < keys.length; i++) {
    const mac = crypto.createHmac('sha256', keys[i]).update(message).digest('base64');
    const expected = mac.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    let diff = 0;
    for (let j = 0; j < 43; j++) diff |= expected.charCodeAt(j) ^ signature.charCodeAt(j);
    if (diff === 0) ok = true;
  }
  return ok;
}

async function signingKeys() {
  try {
    return (await cf.kvs().get('signing-keys')).split(',').filter((k) => k !== '');
  } catch (_e) {
    return []; // no such key: signing off
  }
}

const forbidden = {
  statusCode: 403,
  statusDescription: 'Forbidden',
  headers: {
    'content-type': { value: 'text/plain; charset=utf-8' },
    'cache-control': { value: 'public, max-age=60' },
  },
  body: 'invalid or missing signature\n',
};

/** With signing on: null when the request may go on, else the 403 to answer at the edge. */
function refusal(request, c, keys) {
  const s = request.querystring.s;
  const direct = c ? null : canonicalPathMessage(request.uri);
  const message = c ? c.message : direct;
  if (message !== null && !signed(keys, message, c ? c.signature : s ? s.value : undefined)) return forbidden;
  if (direct !== null && Object.keys(request.querystring).length === 1) {
    // A verified canonical path: `s` leaves the cache key, imageServe still gets it.
    request.headers['x-image-request'] = { value: `${request.uri}?s=${s.value}` };
    request.querystring = {};
  }
  return null;
}

// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls `handler` by name.
async function handler(event) {
  const request = event.request;
  const accept = normalisedAccept(request.headers.accept ? request.headers.accept.value : '');
  request.headers.accept = { value: accept };
  delete request.headers['x-image-request'];
  const c = canonical(request.uri, request.querystring, accept);
  const keys = await signingKeys();
  const refused = keys.length > 0 ? refusal(request, c, keys) : null;
  if (refused) return refused;
  if (c) {
    request.uri = c.uri;
    request.querystring = {};
    request.headers['x-image-request'] = { value: c.viewer };
  }
  return request;
}
