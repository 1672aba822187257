import sharp from 'sharp';
import { type CorpusUrl, expectedOutput, type Size } from './intent.ts';

/** What came back for one request. */
export interface ServedResponse {
  readonly status: number;
  readonly contentType?: string | undefined;
  readonly body?: Buffer | string | undefined;
}

export type Verdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Groups failures: `status 400: unknown parameter`, `content-type`, `size`, `undecodable`. */
      readonly cause: string;
      readonly detail: string;
    };

/** One pixel either way: servers round a scaled side differently. */
const tolerance = 1;

/**
 * Was this URL served as it intends? Checks the status, the content type against the Accept header,
 * and the decoded pixel size against {@link expectedOutput} (never upscaled, fit and canvas applied).
 *
 * @example await judge(entry, { width: 1200, height: 1500 }, { status: 200, contentType: 'image/webp', body }, chrome)
 */
export async function judge(
  entry: CorpusUrl,
  original: Size,
  response: ServedResponse,
  accept: string,
): Promise<Verdict> {
  if (response.status !== 200) {
    const text = typeof response.body === 'string' ? response.body.trim() : '';
    return { ok: false, cause: `status ${response.status}: ${refusalKind(text)}`, detail: text };
  }
  const expected = expectedOutput(entry.intent, original, accept);
  const type = (response.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!expected.contentTypes.includes(type)) {
    return {
      ok: false,
      cause: 'content-type',
      detail: `got ${type || 'none'}, want ${expected.contentTypes.join(' or ')}`,
    };
  }
  if (!Buffer.isBuffer(response.body)) return { ok: false, cause: 'undecodable', detail: 'no image body' };
  let got: Size;
  try {
    const meta = await sharp(response.body).metadata();
    got = { width: meta.width, height: meta.height };
  } catch (error) {
    return { ok: false, cause: 'undecodable', detail: String(error) };
  }
  const off =
    Math.abs(got.width - expected.width) > tolerance || Math.abs(got.height - expected.height) > tolerance;
  if (off) {
    const upscaled =
      entry.intent.canvas === undefined && (got.width > original.width || got.height > original.height);
    return {
      ok: false,
      cause: upscaled ? 'upscaled' : 'size',
      detail: `got ${got.width}x${got.height}, want ${expected.width}x${expected.height} from ${original.width}x${original.height}`,
    };
  }
  return { ok: true };
}

/** A refusal's text without its particulars (names, numbers), so equal causes group together. */
const refusalKind = (text: string): string =>
  text
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\d+/g, '#')
    .slice(0, 80);

interface ServeRequest {
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly accept: string;
}

/** Sends one request to the server under test (the handler, a function URL, CloudFront…). */
export type Serve = (request: ServeRequest) => Promise<ServedResponse>;

export interface FormShare {
  readonly form: string;
  /** Requests sent: distinct URLs × Accept headers. */
  readonly total: number;
  readonly served: number;
  /** Failures by cause, with one example URL each. */
  readonly failures: Readonly<
    Record<string, { readonly count: number; readonly example: string; readonly detail: string }>
  >;
}

/** Accept headers of a browser with WebP and AVIF (Chrome) and of one with neither (an old Safari). */
const accepts: readonly string[] = [
  'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
];

/** The path and raw query a server receives for an emitted URL (absolute or path-only). */
export function requestOf(url: string): { rawPath: string; rawQuery: string } {
  const parsed = new URL(url, 'https://storefront.invalid');
  return { rawPath: parsed.pathname, rawQuery: parsed.search.slice(1) };
}

/**
 * Sends every distinct corpus URL with each Accept header through `serve` and judges each answer;
 * returns, per URL form, how many were served as intended and the failures grouped by cause.
 * `originals` gives each original's pixel size (media path → size); URLs naming another are skipped.
 *
 * @example const shares = await servedShare(corpus, (r) => handlerServe(r), new Map([['catalog/product/m/b/mb01.jpg', { width: 1200, height: 1500 }]]))
 */
export async function servedShare(
  urls: readonly CorpusUrl[],
  serve: Serve,
  originals: ReadonlyMap<string, Size>,
  acceptHeaders: readonly string[] = accepts,
): Promise<FormShare[]> {
  const forms = new Map<
    string,
    {
      total: number;
      served: number;
      failures: Record<string, { count: number; example: string; detail: string }>;
    }
  >();
  const seen = new Set<string>();
  for (const entry of urls) {
    const original = originals.get(entry.intent.original);
    if (original === undefined || seen.has(entry.url)) continue;
    seen.add(entry.url);
    const share = forms.get(entry.form) ?? { total: 0, served: 0, failures: {} };
    forms.set(entry.form, share);
    for (const accept of acceptHeaders) {
      const verdict = await judge(entry, original, await serve({ ...requestOf(entry.url), accept }), accept);
      share.total += 1;
      if (verdict.ok) {
        share.served += 1;
        continue;
      }
      const failure = share.failures[verdict.cause] ?? {
        count: 0,
        example: entry.url,
        detail: verdict.detail,
      };
      failure.count += 1;
      share.failures[verdict.cause] = failure;
    }
  }
  return [...forms].map(([form, share]) => ({ form, ...share })).sort((a, b) => a.form.localeCompare(b.form));
}
