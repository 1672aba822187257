/**
 * What a storefront image URL asks for, independent of how imageServe parses it: the original it
 * names, the box, the fit (Fastly's semantics, which PWA Studio and Magento's Fastly module target)
 * and the format negotiation. {@link expectedOutput} turns an intent and an original's size into the
 * answer a correct server gives — computed here from the emitters' documented semantics, never with
 * lib/images code, so the judge pins something.
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Fastly `fit`: `bounds` inside the box, `cover` covers it (may exceed one side), `crop` covers and crops. */
export type Fit = 'bounds' | 'cover' | 'crop';

export type Format =
  /** `auto=webp` (PWA Studio) or a CDN's automatic WebP: WebP/AVIF when Accept lists them, else the fallback. */
  | { readonly kind: 'negotiate'; readonly fallback: 'jpeg' | 'png' }
  | { readonly kind: 'fixed'; readonly type: 'jpeg' | 'png' | 'webp' };

export interface ImageIntent {
  /** Media path of the original the URL names (`catalog/product/m/b/mb01.jpg`), Magento's cache segment removed. */
  readonly original: string;
  /** Requested box in output pixels (Fastly `dpr` already applied); an absent side scales proportionally. */
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  /** Only meaningful with both sides. */
  readonly fit: Fit;
  /**
   * Fastly `canvas`: `ratio` (`canvas=W:H`, Magento's Fastly asset URLs) pads the fitted image to that
   * aspect ratio; `exact` (`canvas=W,H`, the Fastly product-image model) pads it to exactly that size.
   */
  readonly canvas?: { readonly kind: 'ratio' | 'exact'; readonly width: number; readonly height: number };
  readonly format: Format;
}

/** One URL of the corpus: what the client emits, who emits it, and what it means. */
export interface CorpusUrl {
  /** Exactly as emitted: a path (`/media/…?…`) or an absolute URL. */
  readonly url: string;
  /** URL form, the unit the served share is counted in (`pwa-studio/onboard`, `magento/hash`, …). */
  readonly form: string;
  /** The rule or call site that emits it (`venia-ui/lib/components/Gallery/item.js:103 srcset`). */
  readonly source: string;
  readonly intent: ImageIntent;
}

/** What a correct answer looks like for one original size and one Accept header. */
export interface ExpectedOutput extends Size {
  /** Any of these content types is correct. */
  readonly contentTypes: readonly string[];
}

/**
 * The output a correct server returns: never upscaled, aspect ratio kept, the fit and canvas applied.
 *
 * @example expectedOutput({ original, width: 640, height: 800, fit: 'cover', format }, { width: 2000, height: 2000 }, chrome)
 * // { width: 800, height: 800, contentTypes: ['image/webp', 'image/avif'] }
 */
export function expectedOutput(intent: ImageIntent, original: Size, accept: string): ExpectedOutput {
  const fitted = fittedSize(intent, original);
  return { ...canvasSize(intent, fitted), contentTypes: contentTypesFor(intent.format, accept) };
}

function fittedSize(intent: ImageIntent, original: Size): Size {
  const { width: w, height: h } = original;
  const scaled = (s: number): Size => ({
    width: Math.max(1, Math.round(w * s)),
    height: Math.max(1, Math.round(h * s)),
  });
  const { width, height } = intent;
  if (width === undefined && height === undefined) return original;
  if (width === undefined || height === undefined) {
    return scaled(Math.min(1, width === undefined ? (height ?? h) / h : width / w));
  }
  if (intent.fit === 'bounds') return scaled(Math.min(1, width / w, height / h));
  const covering = scaled(Math.min(1, Math.max(width / w, height / h)));
  if (intent.fit === 'cover') return covering;
  return { width: Math.min(width, covering.width), height: Math.min(height, covering.height) };
}

function canvasSize(intent: ImageIntent, fitted: Size): Size {
  const { canvas } = intent;
  if (canvas === undefined) return fitted;
  if (canvas.kind === 'exact') return { width: canvas.width, height: canvas.height };
  // The smallest canvas of the ratio that holds the fitted image.
  const ratio = canvas.width / canvas.height;
  return fitted.width / fitted.height > ratio
    ? { width: fitted.width, height: Math.round(fitted.width / ratio) }
    : { width: Math.round(fitted.height * ratio), height: fitted.height };
}

const mime = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif' } as const;

/** Does Accept list this exact type with q > 0? Wildcards do not count: browsers list what they decode. */
function lists(accept: string, type: string): boolean {
  return accept.split(',').some((part) => {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (name !== type) return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function contentTypesFor(format: Format, accept: string): readonly string[] {
  if (format.kind === 'fixed') return [mime[format.type]];
  const modern = [mime.webp, mime.avif].filter((t) => lists(accept, t));
  return modern.length > 0 ? modern : [mime[format.fallback]];
}
