import { messageOf } from '../common/messageOf.ts';
import { metricNames } from '../observability/metricNames.ts';
import { type Log, type MetricSink, withFields } from '../observability/telemetry.ts';
import { chooseFormat, parseAccept } from './accept.ts';
import { inspectOriginal } from './decode.ts';
import { ImageRejectedError, ImageRequestError } from './errors.ts';
import type { Placement, Size } from './geometry.ts';
import { derivedUrlPrefix, type ImageRequest, type ImageUrlRules, parseImageUrl } from './imageUrl.ts';
import { metadataSafe, variantFolder } from './keyLayout.ts';
import type { ImageLimits } from './limits.ts';
import type { EncodeSettings } from './render.ts';
import type { ServedObjectStore } from './servedObjectStore.ts';
import { renderPlan } from './servePlan.ts';
import { renderServed } from './serveRender.ts';
import {
  type HttpResponse,
  imageResponse,
  notModified,
  redirect,
  refusalOf,
  serverError,
} from './serveResponses.ts';
import {
  normalisedForFormat,
  type ResizeTransform,
  type ServeFormat,
  serveFormatInfo,
  type Transform,
  variantName,
} from './transform.ts';
import { verifySignature } from './urlSigning.ts';
import { immutableCacheControl } from './variantPipeline.ts';

/** What imageServe reads of one of Magento's view.xml images (lib/images/magento's `MagentoImage`). */
interface MagentoImageHints {
  /** keep_frame letterbox colour. */
  readonly background: readonly [number, number, number];
  readonly quality: number;
  readonly keepTransparency: boolean;
}

/** One resolved hash: how Magento renders it, and where it places a source of a given size. */
export interface MagentoImageRender extends MagentoImageHints {
  place(source: Size): Placement;
}

/**
 * Magento's `cache/<hash>/` table as imageServe uses it: built at cold start from the shop's crypt
 * key and view.xml (lib/images/magento `buildCacheTable`), each image placed with Magento's own
 * geometry (`magentoPlacement`). Wiring: `lookup: (h) => { const i = table.lookup(h); return i && { ...i, place: (s) => magentoPlacement(s, i) } }`.
 */
export interface MagentoImages {
  lookup(hash: string): MagentoImageRender | undefined;
}

export interface ServeSettings {
  readonly rules: ImageUrlRules;
  readonly limits: ImageLimits;
  readonly encode: EncodeSettings;
  /** On-the-fly AVIF only for requested boxes up to this many pixels; presets always (pre-generated). */
  readonly avifMaxPixels: number;
  /** Empty: signing off. Otherwise every request needs a valid `s` under one of these (two during rotation). */
  readonly signingKeys: readonly string[];
  /** Largest body answered inline; a function URL response is capped at 6 MB after base64. */
  readonly maxInlineBytes: number;
  /** Public URL under which bucket keys are served (e.g. `https://cdn.example.com/`); large outputs redirect there. */
  readonly redirectBaseUrl?: string | undefined;
  /** Shared-cache TTL of refusals (400–415), in seconds. */
  readonly errorMaxAge: number;
  /** Magento hash URLs are answered only with a table; without one they are 404. */
  readonly magentoCache?: MagentoImages | undefined;
}

export interface ServeDeps {
  readonly store: ServedObjectStore;
  readonly log: Log;
  readonly metrics: MetricSink;
}

/** The parts of an HTTP request imageServe looks at. */
export interface ImageHttpRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly accept?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  /**
   * The viewer's request as CloudFront's viewer-request function rebuilt it (path and the query of
   * only the parameters that matter, `s` last), sent in a header because the URI itself is rewritten
   * to the canonical key for the S3 origin. When present it is what is parsed and verified — it
   * needs no trust: it is held to the same rules and signature as any request.
   */
  readonly viewerRequest?: { readonly rawPath: string; readonly rawQuery: string } | undefined;
}

/**
 * Answers one image request: strict parse, signature, format negotiation, then the cached variant
 * from S3 (hit, or 304) or — on a miss — the original resized once, stored under its canonical key
 * and returned. Every refusal becomes its status here; anything unexpected becomes a 500 and is
 * logged with the identifiers needed to find it. Each response carries a `server-timing` split.
 */
export async function serveImage(
  request: ImageHttpRequest,
  settings: ServeSettings,
  deps: ServeDeps,
): Promise<HttpResponse> {
  const started = performance.now();
  const timing = new Timing();
  // The path only: the query may carry the URL signature.
  const log = withFields(deps.log, { path: request.rawPath.slice(0, 300) });
  const names = metricNames.imageServe;
  let key: string | undefined;
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new ImageRequestError(405, 'method-not-allowed', 'only GET and HEAD are supported');
    }
    const viewer = request.viewerRequest ?? request;
    const parsed = parseImageUrl(viewer.rawPath, viewer.rawQuery, settings.rules);
    key = parsed.originalKey;
    if (
      settings.signingKeys.length > 0 &&
      !verifySignature(settings.signingKeys, parsed.signedMessage, parsed.signature)
    ) {
      throw new ImageRequestError(
        403,
        parsed.signature ? 'bad-signature' : 'unsigned',
        'invalid or missing signature',
      );
    }
    const { name, target, format } = variantOf(parsed, request, settings, log);
    const outcome = await respond(parsed, target, format, request, settings, deps, timing);
    const ms = performance.now() - started;
    log.info('image served', {
      key,
      variant: name,
      status: outcome.response.status,
      cache: outcome.cache,
      ms,
    });
    deps.metrics.count(outcome.cache === 'miss' ? names.miss : names.hit);
    deps.metrics.milliseconds(names.time, ms);
    return finish(outcome.response, request, timing);
  } catch (error) {
    if (error instanceof ImageRequestError || error instanceof ImageRejectedError) {
      const response = refusalOf(error, settings.errorMaxAge);
      const reason = error.reason;
      log.warn('image request refused', {
        key,
        status: response.status,
        reason,
        detail: error.message,
      });
      deps.metrics.count(names.refused, 1, { status: String(response.status) });
      return finish(response, request, timing);
    }
    log.error('image request failed', {
      key,
      error: messageOf(error),
    });
    deps.metrics.count(names.failed);
    return finish(serverError(), request, timing);
  }
}

/** Whether a raw (percent-encoded) path names `decoded`. */
function samePath(rawPath: string, decoded: string): boolean {
  try {
    return decodeURIComponent(rawPath) === decoded;
  } catch {
    return false;
  }
}

/** The one canonical variant a parsed request maps to (its format chosen from Accept). */
function variantOf(
  parsed: ImageRequest,
  request: ImageHttpRequest,
  settings: ServeSettings,
  log: Log,
): { name: string; target: string; format: ServeFormat } {
  // Before S3 is touched: an unknown size costs nothing.
  if (parsed.transform.kind === 'magento') magentoImageOf(parsed.transform.hash, settings);
  const format = chooseFormat(
    parsed.format,
    parseAccept(request.accept),
    avifAllowed(parsed.transform, settings.avifMaxPixels),
  );
  const transform = normalisedForFormat(parsed.transform, format, settings.encode);
  const name = variantName(transform, format);
  if (parsed.variantName !== undefined && parsed.variantName !== name) {
    // Only the one name a request maps to may be asked for: no second key for one picture.
    throw new ImageRequestError(400, 'not-canonical', 'not the canonical variant name');
  }
  const target = `${variantFolder(parsed.relative, settings.rules.layout)}${name}`;
  const edgePath = `/${derivedUrlPrefix(settings.rules.layout)}${parsed.relative}/${name}`;
  if (request.viewerRequest !== undefined && !samePath(request.rawPath, edgePath)) {
    // The edge keyed this request differently (a parity bug): still answered correctly, but
    // every repeat will miss S3 until the function and the edge agree again.
    log.warn('edge key differs', {
      key: parsed.originalKey,
      edgePath: request.rawPath.slice(0, 300),
      variant: name,
    });
  }
  return { name, target, format };
}

async function respond(
  parsed: ImageRequest,
  target: string,
  format: ServeFormat,
  request: ImageHttpRequest,
  settings: ServeSettings,
  deps: ServeDeps,
  timing: Timing,
): Promise<{ response: HttpResponse; cache: 'hit' | 'miss' }> {
  const { store } = deps;
  const tags = entityTags(request.ifNoneMatch);
  const cached = await timing.measure('cache', () =>
    store.getVariant(target, tags.length === 1 ? tags[0] : undefined, settings.maxInlineBytes),
  );
  switch (cached.kind) {
    case 'not-modified':
      return { response: notModified(cached.etag), cache: 'hit' };
    case 'too-large':
      return { response: redirect(locationOf(target, request, settings)), cache: 'hit' };
    case 'found':
      if (matches(tags, cached.etag)) return { response: notModified(cached.etag), cache: 'hit' };
      return { response: imageResponse(cached.body, cached.contentType, cached.etag), cache: 'hit' };
    case 'missing':
      break;
  }

  const original = await timing.measure('source', () =>
    store.getOriginal(parsed.originalKey, settings.limits),
  );
  if (original === undefined) throw new ImageRequestError(404, 'original-not-found', 'no such image');
  const image = await timing.measure('render', async () => {
    const inspected = await inspectOriginal(original.body, settings.limits);
    const { layout, encoding, before } = renderPlan(inspected, parsed.transform, format, {
      maxDimension: settings.rules.maxDimension,
      magentoImage: (hash) => magentoImageOf(hash, settings),
    });
    return renderServed(original.body, inspected, layout, encoding, settings.encode, settings.limits, before);
  });
  const contentType = serveFormatInfo[format].contentType;
  const etag = await timing.measure('store', () =>
    store.putVariant({
      key: target,
      body: image.body,
      contentType,
      cacheControl: immutableCacheControl,
      metadata: {
        'source-key': metadataSafe(parsed.originalKey),
        'source-etag': original.etag,
        width: String(image.width),
        height: String(image.height),
      },
    }),
  );
  if (image.body.length > settings.maxInlineBytes) {
    return { response: redirect(locationOf(target, request, settings)), cache: 'miss' };
  }
  return { response: imageResponse(image.body, contentType, etag), cache: 'miss' };
}

/** The view.xml image a Magento hash names; an unknown hash (or no table) is a 404 with the short TTL. */
function magentoImageOf(hash: string, settings: ServeSettings): MagentoImageRender {
  const image = settings.magentoCache?.lookup(hash);
  if (image === undefined) throw new ImageRequestError(404, 'unknown-magento-hash', 'no such image size');
  return image;
}

/** AVIF encoding is slow (see README's bench:serve); on the fly it is only chosen for boxes within budget. */
function avifAllowed(transform: Transform, maxPixels: number): boolean {
  // Presets come pre-generated in AVIF too. Magento's view.xml sizes come pre-generated as JPEG and
  // WebP only (AVIF would triple imageVariants' time for them), and their size is unknown at the edge
  // (a size-less hash is the whole original): never AVIF, so a hash URL is an S3 hit, not a slow render.
  // A resize query on top is rendered on the fly anyway and names its box: the resize budget holds.
  if (transform.kind === 'preset') return true;
  if (transform.kind === 'magento')
    return transform.resize !== undefined && boxPixels(transform.resize) <= maxPixels;
  return boxPixels(transform) <= maxPixels;
}

/** Pixels of the box a resize asks for (a pixel canvas when larger); unbounded without a size. */
export function boxPixels(transform: ResizeTransform): number {
  const width = transform.width ?? transform.height;
  const height = transform.height ?? transform.width;
  if (width === undefined || height === undefined) return Number.POSITIVE_INFINITY;
  const canvas = transform.canvas?.mode === 'pixels' ? transform.canvas : undefined;
  return Math.max(width * height, canvas ? canvas.width * canvas.height : 0);
}

/**
 * Entity tags of an If-None-Match header, weak prefixes dropped (a weak comparison is what
 * If-None-Match asks for); `*` matches any existing variant.
 */
function entityTags(header: string | undefined): string[] {
  if (header === undefined) return [];
  if (header.trim() === '*') return ['*'];
  return [...header.matchAll(/(?:W\/)?("[^"]*")/g)].map((m) => m[1] ?? '').filter((t) => t !== '');
}

const matches = (tags: readonly string[], etag: string): boolean =>
  tags.includes('*') || tags.includes(etag.replace(/^W\//, ''));

function locationOf(target: string, request: ImageHttpRequest, settings: ServeSettings): string {
  if (settings.redirectBaseUrl !== undefined) {
    return `${settings.redirectBaseUrl}${target.split('/').map(encodeURIComponent).join('/')}`;
  }
  // Behind CloudFront's origin group the same URL is now answered by the S3 origin.
  return request.rawQuery === '' ? request.rawPath : `${request.rawPath}?${request.rawQuery}`;
}

function finish(response: HttpResponse, request: ImageHttpRequest, timing: Timing): HttpResponse {
  const spent = timing.header();
  const headers = spent === '' ? response.headers : { ...response.headers, 'server-timing': spent };
  return request.method === 'HEAD' ? { ...response, headers, body: undefined } : { ...response, headers };
}

/** Collects `server-timing` entries: where a request's time went (S3 lookup, original, resize, write). */
class Timing {
  private readonly entries: string[] = [];

  async measure<T>(name: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.entries.push(`${name};dur=${(performance.now() - t0).toFixed(1)}`);
    }
  }

  header(): string {
    return this.entries.join(', ');
  }
}
