import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseFormat, normalisedAccept, parseAccept } from '../../../lib/images/accept.ts';
import { boxPixels } from '../../../lib/images/imageServer.ts';
import { parseImageUrl } from '../../../lib/images/imageUrl.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';
import { transformId, variantName } from '../../../lib/images/transform.ts';

const source = readFileSync(
  join(import.meta.dirname, '../../../functions/cloudfront-image-request.mjs'),
  'utf8',
);
const rules = {
  layout: { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' },
  presets: lumaPresets,
  maxDimension: 2560,
};
const avifMaxPixels = 250_000;

interface CfRequest {
  uri: string;
  querystring: Record<string, { value: string; multiValue?: { value: string }[] }>;
  headers: Record<string, { value: string }>;
}

/** Runs the shipped function in a fresh context, as CloudFront would: a script with a top-level `handler`. */
function viewerRequest(uri: string, rawQuery: string, accept?: string): CfRequest {
  const querystring: CfRequest['querystring'] = {};
  for (const part of rawQuery === '' ? [] : rawQuery.split('&')) {
    const [name = '', value = ''] = part.split('=');
    const existing = querystring[name];
    querystring[name] = existing
      ? {
          value: existing.value,
          multiValue: [...(existing.multiValue ?? [{ value: existing.value }]), { value }],
        }
      : { value };
  }
  const request: CfRequest = {
    uri,
    querystring,
    headers: accept === undefined ? {} : { accept: { value: accept } },
  };
  return runInNewContext(`${source}\nhandler(event)`, {
    event: { request },
  }) as CfRequest;
}

/** What imageServe itself makes of the same request: the canonical key it would read or write. */
function imageServeKey(uri: string, rawQuery: string, accept?: string): string | undefined {
  try {
    const request = parseImageUrl(uri, rawQuery, rules);
    const transform = request.transform;
    const box = transform.kind === 'resize' ? boxPixels(transform) : 0;
    const format = chooseFormat(request.format, parseAccept(accept), box <= avifMaxPixels);
    return `${request.relative}/${variantName(transform, format)}|${transformId(transform)}`;
  } catch {
    return undefined;
  }
}

const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

describe('functions/cloudfront-image-request.mjs', () => {
  it('fits CloudFront Functions size limit (10 KB)', () => {
    expect(Buffer.byteLength(source)).toBeLessThan(10_240);
  });

  it.each([
    [chrome, 'image/avif,image/webp'],
    ['image/webp,*/*', 'image/webp'],
    ['*/*', '*/*'],
    [undefined, '*/*'],
  ])('normalises Accept %s to %s, as imageServe does', (accept, expected) => {
    expect(viewerRequest('/catalog/product/x.jpg', 'width=10', accept).headers.accept?.value).toBe(expected);
    expect(normalisedAccept(parseAccept(accept))).toBe(expected);
  });

  it.each([
    [
      '/media/catalog/product/m/b/mb01-blue%200.jpg',
      'auto=webp&format=pjpg&width=640&height=800&fit=cover',
      chrome,
      '/derived/catalog/product/m/b/mb01-blue%200.jpg/w640.h800.outside.webp',
    ],
    [
      '/catalog/product/m/b/x.jpg',
      'width=200&height=250&fit=crop',
      chrome,
      '/derived/catalog/product/m/b/x.jpg/w200.h250.cover.avif',
    ],
    [
      '/catalog/product/m/b/x.jpg',
      'preset=category',
      chrome,
      '/derived/catalog/product/m/b/x.jpg/category.avif',
    ],
    [
      '/catalog/product/m/b/x.png',
      'width=240&height=300&store=default&image-type=small_image',
      '*/*',
      '/derived/catalog/product/m/b/x.png/w240.h300.inside.png',
    ],
  ])('rewrites %s?%s to the canonical key', (uri, query, accept, expected) => {
    const out = viewerRequest(uri, query, accept);
    expect(out.uri).toBe(expected);
    expect(out.querystring).toEqual({});
  });

  it('keeps only the signature on a rewritten request', () => {
    const out = viewerRequest('/catalog/product/x.jpg', `width=10&s=${'a'.repeat(43)}`, '*/*');
    expect([out.uri, out.querystring]).toEqual([
      '/derived/catalog/product/x.jpg/w10.inside.jpg',
      { s: { value: 'a'.repeat(43) } },
    ]);
  });

  it.each([
    ['/catalog/product/x.jpg', 'width=1e3'],
    ['/catalog/product/x.jpg', 'width=10&width=20'],
    ['/catalog/product/x.jpg', 'Width=10'],
    ['/catalog/product/x.jpg', 'width=4000'],
    ['/catalog/product/a/%2e%2e/x.jpg', 'width=10'],
    ['/catalog/product/a%2Fb.jpg', 'width=10'],
    ['/catalog/category/x.jpg', 'width=10'],
    ['/derived/catalog/product/x.jpg/w10.inside.jpg', ''],
  ])('passes %s?%s through unchanged for imageServe to refuse or answer', (uri, query) => {
    const out = viewerRequest(uri, query, chrome);
    expect(out.uri).toBe(uri);
  });

  it('gives the key imageServe computes for every valid request and Accept', () => {
    const params = fc.record({
      width: fc.option(fc.integer({ min: 1, max: 2560 }), { nil: undefined }),
      height: fc.option(fc.integer({ min: 1, max: 2560 }), { nil: undefined }),
      fit: fc.option(fc.constantFrom('bounds', 'cover', 'crop'), { nil: undefined }),
      quality: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
      format: fc.option(fc.constantFrom('pjpg', 'jpg', 'png', 'webp', 'avif'), { nil: undefined }),
      auto: fc.option(fc.constantFrom('webp', 'avif'), { nil: undefined }),
      store: fc.option(fc.constant('default'), { nil: undefined }),
    });
    const accept = fc.constantFrom(chrome, 'image/webp,*/*', '*/*', 'image/avif', undefined);
    const file = fc.constantFrom('m/b/mb01-blue%200.jpg', 'a/logo.png', 'x/y/z.JPG');
    fc.assert(
      fc.property(params, accept, file, (p, a, f) => {
        const query = Object.entries(p)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join('&');
        const uri = `/catalog/product/${f}`;
        const expected = imageServeKey(uri, query, a);
        const out = viewerRequest(uri, query, a);
        if (expected === undefined) {
          expect(out.uri).toBe(uri);
          return;
        }
        const [key = '', id = ''] = expected.split('|');
        expect(decodeURIComponent(out.uri)).toBe(`/derived/${key}`);
        // …and imageServe accepts that rewritten path as the same request.
        const back = parseImageUrl(out.uri, '', rules);
        expect(`${back.originalKey}|${transformId(back.transform)}`).toBe(
          `${key.slice(0, key.lastIndexOf('/'))}|${id}`,
        );
      }),
    );
  });
});
