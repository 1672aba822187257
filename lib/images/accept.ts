import type { ServeFormat } from './transform.ts';

/** The only facts of an `Accept` header that change the answer: which modern formats the client takes. */
export interface AcceptedFormats {
  readonly avif: boolean;
  readonly webp: boolean;
}

/** How a request wants its format chosen. */
export type FormatRequest =
  /** `format=` without `auto=`: exactly this format, whatever the client accepts. */
  | { readonly kind: 'fixed'; readonly format: ServeFormat }
  /** `auto=` or no format at all: the best format the client accepts, else `fallback`. */
  | { readonly kind: 'negotiate'; readonly fallback: ServeFormat };

/**
 * Reduces an `Accept` header to {@link AcceptedFormats}. Media types are case-insensitive and a
 * `q=0` entry means "not acceptable". Wildcards (`image/*`, `*\/*`) do not count: browsers send
 * them whether or not they decode AVIF, so only an explicit `image/avif` / `image/webp` does.
 */
export function parseAccept(header: string | undefined): AcceptedFormats {
  const accepted = { avif: false, webp: false };
  for (const entry of (header ?? '').slice(0, 1024).split(',')) {
    const [type = '', ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => /^q\s*=/.test(p));
    const weight = q === undefined ? 1 : Number(q.replace(/^q\s*=\s*/, ''));
    if (!(weight > 0)) continue;
    if (type === 'image/avif') accepted.avif = true;
    if (type === 'image/webp') accepted.webp = true;
  }
  return accepted;
}

/**
 * The normalised Accept value, as CloudFront's viewer-request function puts it into the cache key:
 * every browser maps to one of four values, so the cache is not split by Accept spelling.
 *
 * @example normalisedAccept(parseAccept('image/avif,image/webp,*\/*;q=0.8')) // 'image/avif,image/webp'
 */
export function normalisedAccept(accepted: AcceptedFormats): string {
  const types = [];
  if (accepted.avif) types.push('image/avif');
  if (accepted.webp) types.push('image/webp');
  return types.length === 0 ? '*/*' : types.join(',');
}

/**
 * Picks the output format: a fixed request is honoured, except that AVIF outside the latency
 * budget (`avifAllowed` false, see README) becomes WebP; otherwise AVIF when the client accepts it
 * and `avifAllowed`, then WebP, then the fallback.
 */
export function chooseFormat(
  request: FormatRequest,
  accepted: AcceptedFormats,
  avifAllowed: boolean,
): ServeFormat {
  if (request.kind === 'fixed') return request.format === 'avif' && !avifAllowed ? 'webp' : request.format;
  if (accepted.avif && avifAllowed) return 'avif';
  if (accepted.webp) return 'webp';
  return request.fallback;
}
