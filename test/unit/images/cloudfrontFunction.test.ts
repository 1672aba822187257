import { createHmac } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseFormat, normalisedAccept, parseAccept } from '../../../lib/images/accept.ts';
import { boxPixels } from '../../../lib/images/imageServer.ts';
import { parseImageUrl } from '../../../lib/images/imageUrl.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';
import { defaultEncodeSettings } from '../../../lib/images/render.ts';
import { normalisedForFormat, transformId, variantName } from '../../../lib/images/transform.ts';
import { signatureFor } from '../../../lib/images/urlSigning.ts';
import { cloudfrontFunctionCode } from '../../../serverless.imageCdn.js';

const layout = {
  mediaPrefix: '',
  roots: ['catalog/product/', 'catalog/category/', 'attribute/swatch/', 'wysiwyg/'],
  derivedPrefix: 'derived/',
};
// The code exactly as serverless.yml deploys it for this layout (serverless.imageCdn.js).
const deployed: string = cloudfrontFunctionCode(layout);
const rules = { layout, presets: lumaPresets, maxDimension: 2560 };
const avifMaxPixels = 250_000;
const signingKey = 'edge-key-0123456789abcdef0123456789abcdef';

interface CfRequest {
  uri: string;
  querystring: Record<string, { value: string; multiValue?: { value: string }[] }>;
  headers: Record<string, { value: string }>;
}
interface CfResponse {
  statusCode: number;
  headers: Record<string, { value: string }>;
}

/** The runtime's `cloudfront` module: a KeyValueStore holding `entries` (`get` throws for a missing key, as CloudFront's does). */
const cloudfrontModule = (entries: Record<string, string>) => ({
  kvs: () => ({
    get: async (key: string) => {
      const value = entries[key];
      if (value === undefined) throw new Error(`KeyValueStore: ${key} not found`);
      return value;
    },
  }),
});

/** The runtime's `crypto` module, as far as the function uses it. */
const cryptoModule = {
  createHmac: (algorithm: string, key: string) => createHmac(algorithm, key),
};

/** Runs the deployed code in a fresh context, as CloudFront would: an ES module whose `handler` is called. */
async function viewerRequest(
  uri: string,
  rawQuery: string,
  accept?: string,
  kvs: Record<string, string> = {},
): Promise<CfRequest & Partial<CfResponse>> {
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
  // vm runs scripts, not modules: the two imports become the runtime's modules.
  const script = deployed.replace(
    /import\s*(\w+)\s*from\s*["'](cloudfront|crypto)["'];?/g,
    (_m, name: string, module: string) => `var ${name}=modules.${module};`,
  );
  return (await runInNewContext(`${script}\nhandler(event)`, {
    event: { request },
    modules: { cloudfront: cloudfrontModule(kvs), crypto: cryptoModule },
  })) as CfRequest & Partial<CfResponse>;
}

/** What imageServe itself makes of the same request: the canonical key it would read or write. */
function imageServeKey(uri: string, rawQuery: string, accept?: string): string | undefined {
  try {
    const request = parseImageUrl(uri, rawQuery, rules);
    const transform = request.transform;
    // Presets: AVIF pre-generated; Magento's sizes: JPEG and WebP only; resizes (also one on top of
    // Magento's size): within the budget.
    const resize = transform.kind === 'magento' ? transform.resize : transform;
    const box =
      resize?.kind === 'resize'
        ? boxPixels(resize)
        : transform.kind === 'magento'
          ? Number.POSITIVE_INFINITY
          : 0;
    const format = chooseFormat(request.format, parseAccept(accept), box <= avifMaxPixels);
    const name = variantName(normalisedForFormat(transform, format, defaultEncodeSettings), format);
    return `${request.relative}/${name}|${transformId(transform)}|${request.signedMessage}`;
  } catch {
    return undefined;
  }
}

const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const hash = '2765542505660baab28ecd555e27366e';

describe('functions/cloudfront-image-request.mjs', () => {
  it('fits CloudFront Functions size limit (10 KB) as deployed', () => {
    expect(Buffer.byteLength(deployed)).toBeLessThan(10_240);
  });

  it.each([
    [chrome, 'image/avif,image/webp'],
    ['image/webp,*/*', 'image/webp'],
    ['*/*', '*/*'],
    [undefined, '*/*'],
  ])('normalises Accept %s to %s, as imageServe does', async (accept, expected) => {
    expect((await viewerRequest('/catalog/product/x.jpg', 'width=10', accept)).headers.accept?.value).toBe(
      expected,
    );
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
    [
      '/media/catalog/product/m/b/x.jpg',
      'quality=80&bg-color=255,255,255&fit=bounds&height=300&width=240&canvas=240:300&dpr=2',
      '*/*',
      '/derived/catalog/product/m/b/x.jpg/w480.h600.inside.bgffffff.a4x5.jpg',
    ],
    [
      '/media/catalog/product/m/b/x.jpg',
      'quality=80&fit=bounds&height=&width=',
      'image/webp',
      '/derived/catalog/product/m/b/x.jpg/full.inside.webp',
    ],
    [
      '/media/catalog/product/m/b/x.jpg',
      'width=2560&height=3200&store=EN_US',
      '*/*',
      '/derived/catalog/product/m/b/x.jpg/w2048.h2560.inside.jpg',
    ],
    [
      '/media/catalog/product/m/b/x.jpg',
      'width=1000&format=avif',
      chrome,
      '/derived/catalog/product/m/b/x.jpg/w1000.inside.webp',
    ],
    [
      `/media/catalog/product/cache/${hash}/m/b/x.jpg`,
      '',
      chrome,
      `/derived/catalog/product/m/b/x.jpg/cache.${hash}.webp`,
    ],
    [
      `/media/catalog/product/cache/${hash}/m/b/x.jpg`,
      'auto=webp&format=pjpg&width=240&height=300&fit=cover',
      'image/webp',
      `/derived/catalog/product/m/b/x.jpg/cache.${hash}.w240.h300.outside.webp`,
    ],
    [
      `/media/catalog/product/cache/${hash}/m/b/x.jpg`,
      'auto=webp&format=pjpg&width=240&height=300&fit=crop',
      chrome,
      `/derived/catalog/product/m/b/x.jpg/cache.${hash}.w240.h300.cover.avif`,
    ],
    [
      `/media/catalog/product/cache/${hash}/m/b/x.jpg`,
      'width=120&height=150&dpr=2&quality=80&bg-color=255,255,255&canvas=240:300&fit=bounds',
      '*/*',
      `/derived/catalog/product/m/b/x.jpg/cache.${hash}.w240.h300.inside.bgffffff.a4x5.jpg`,
    ],
    [
      `/media/catalog/product/cache/${hash}/m/b/x.jpg`,
      'auto=webp&format=pjpg&dpr=2&fit=cover&optimize=high&quality=80&store=default',
      chrome,
      `/derived/catalog/product/m/b/x.jpg/cache.${hash}.webp`,
    ],
    [
      `/media/catalog/product/cache/${hash}/m/b/x.jpg`,
      'quality=60',
      chrome,
      `/derived/catalog/product/m/b/x.jpg/cache.${hash}.full.inside.q60.webp`,
    ],
    [
      '/media/catalog/category/sale.jpg',
      'width=100',
      '*/*',
      '/derived/catalog/category/sale.jpg/w100.inside.jpg',
    ],
    [
      '/media/attribute/swatch/swatch_thumb/110x90/r/e/red.png',
      'auto=webp&format=png&width=48&fit=cover',
      '*/*',
      '/derived/attribute/swatch/r/e/red.png/w48.inside.png',
    ],
  ])('rewrites %s?%s to the canonical key, with an empty query', async (uri, query, accept, expected) => {
    const out = await viewerRequest(uri, query, accept);
    expect([out.uri, out.querystring]).toEqual([expected, {}]);
  });

  it('forwards the viewer request rebuilt from the parameters that matter, s last', async () => {
    const out = await viewerRequest(
      '/media/catalog/product/x.jpg',
      `store=default&width=10&image-type=thumbnail&bg-color=255%2C0%2C0&height=&s=${'a'.repeat(43)}`,
      '*/*',
    );
    expect(out.headers['x-image-request']?.value).toBe(
      `/media/catalog/product/x.jpg?width=10&bg-color=255,0,0&s=${'a'.repeat(43)}`,
    );
  });

  it('forwards the resize query of a Magento hash URL, as imageServe reads it', async () => {
    const out = await viewerRequest(
      `/media/catalog/product/cache/${hash}/m/b/x.jpg`,
      'auto=webp&format=pjpg&width=240&height=300&fit=cover&store=default&optimize=high',
      chrome,
    );
    expect(out.headers['x-image-request']?.value).toBe(
      `/media/catalog/product/cache/${hash}/m/b/x.jpg?width=240&height=300&fit=cover&format=pjpg&auto=webp`,
    );
  });

  it('drops an x-image-request header the viewer sent', async () => {
    const out = await viewerRequest('/catalog/product/x.jpg', 'width=1e3');
    expect(out.headers['x-image-request']).toBeUndefined();
  });

  it.each([
    ['/catalog/product/x.jpg', 'width=1e3'],
    ['/catalog/product/x.jpg', 'width=10&width=20'],
    ['/catalog/product/x.jpg', 'Width=10'],
    ['/catalog/product/x.jpg', 'width=0.5'],
    ['/catalog/product/x.jpg', `s=${'a'.repeat(43)}&width=10`],
    ['/catalog/product/a/%2e%2e/x.jpg', 'width=10'],
    ['/catalog/product/a%2Fb.jpg', 'width=10'],
    ['/catalog/product/cache/abc/x.jpg', 'width=10'],
    [`/catalog/product/cache/${hash}/x.jpg`, 'preset=category'],
    [`/catalog/product/cache/${hash}/x.jpg`, 'width=10&width=20'],
    ['/pub/static/x.jpg', 'width=10'],
    ['/derived/catalog/product/x.jpg/w10.inside.jpg', ''],
  ])('passes %s?%s through unchanged for imageServe to refuse or answer', async (uri, query) => {
    const out = await viewerRequest(uri, query, chrome);
    expect(out.uri).toBe(uri);
    expect(out.statusCode).toBeUndefined();
  });

  describe('with signing keys in the KeyValueStore', () => {
    const kvs = { 'signing-keys': `${signingKey},next-key-0123456789abcdef0123456789abcdef` };
    const message = 'catalog/product/m/b/x.jpg/w640.h800.cover/auto.jpeg';

    it('rewrites a signed request, taking s out of the cache key but handing it to imageServe', async () => {
      const s = signatureFor(signingKey, message);
      const out = await viewerRequest(
        '/catalog/product/m/b/x.jpg',
        `width=640&height=800&fit=crop&s=${s}`,
        chrome,
        kvs,
      );
      expect([out.uri, out.querystring]).toEqual([
        '/derived/catalog/product/m/b/x.jpg/w640.h800.cover.webp',
        {},
      ]);
      expect(out.headers['x-image-request']?.value).toBe(
        `/catalog/product/m/b/x.jpg?width=640&height=800&fit=crop&s=${s}`,
      );
    });

    it.each([
      ['no signature', 'width=640&height=800&fit=crop'],
      ['a random signature', `width=640&height=800&fit=crop&s=${'x'.repeat(43)}`],
      ['another size', `width=641&height=800&fit=crop&s=${signatureFor(signingKey, message)}`],
      ['a fixed format', `width=640&height=800&fit=crop&format=webp&s=${signatureFor(signingKey, message)}`],
    ])('answers %s with 403 at the edge', async (_label, query) => {
      const out = await viewerRequest('/catalog/product/m/b/x.jpg', query, chrome, kvs);
      expect(out.statusCode).toBe(403);
      expect(out.headers['cache-control']?.value).toBe('public, max-age=60');
    });

    it('verifies a canonical path asked for directly, then moves s into the header', async () => {
      const path = '/derived/catalog/product/m/b/x.jpg/w640.h800.cover.webp';
      const s = signatureFor(signingKey, 'catalog/product/m/b/x.jpg/w640.h800.cover/webp');
      expect((await viewerRequest(path, '', chrome, kvs)).statusCode).toBe(403);
      const out = await viewerRequest(path, `s=${s}`, chrome, kvs);
      expect([out.statusCode, out.uri, out.querystring]).toEqual([undefined, path, {}]);
      expect(out.headers['x-image-request']?.value).toBe(`${path}?s=${s}`);
    });

    it('signs what imageServe verifies, for every valid request, Magento hash URLs with a query too', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4000 }),
          fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }),
          fc.option(fc.constantFrom('webp', 'avif', 'pjpg', 'png'), { nil: undefined }),
          fc.constantFrom('/catalog/product/m/b/x.jpg', `/media/catalog/product/cache/${hash}/m/b/x.jpg`),
          async (width, height, format, path) => {
            const query = [`width=${width}`, height && `height=${height}`, format && `format=${format}`]
              .filter(Boolean)
              .join('&');
            const request = parseImageUrl(path, query, rules);
            const s = signatureFor(signingKey, request.signedMessage);
            const out = await viewerRequest(path, `${query}&s=${s}`, chrome, kvs);
            expect(out.statusCode).toBeUndefined();
          },
        ),
        { numRuns: 50 },
      );
    });

    it('covers the resize query of a Magento hash URL: a signature for another size is a 403', async () => {
      const path = `/media/catalog/product/cache/${hash}/m/b/x.jpg`;
      const s = signatureFor(
        signingKey,
        `catalog/product/m/b/x.jpg/cache.${hash}.w240.h300.outside/auto.jpeg`,
      );
      const signedQuery = (width: number) =>
        `auto=webp&format=pjpg&width=${width}&height=300&fit=cover&s=${s}`;
      expect((await viewerRequest(path, signedQuery(240), chrome, kvs)).statusCode).toBeUndefined();
      expect((await viewerRequest(path, signedQuery(241), chrome, kvs)).statusCode).toBe(403);
      // …and a signature of Magento's size alone does not sign a resize of it.
      const bare = signatureFor(signingKey, `catalog/product/m/b/x.jpg/cache.${hash}/auto.jpeg`);
      expect(
        (await viewerRequest(path, `auto=webp&format=pjpg&s=${bare}`, chrome, kvs)).statusCode,
      ).toBeUndefined();
      expect(
        (await viewerRequest(path, `auto=webp&format=pjpg&width=240&s=${bare}`, chrome, kvs)).statusCode,
      ).toBe(403);
    });
  });

  it('gives the key imageServe computes for every valid request and Accept', async () => {
    const params = fc.record({
      width: fc.option(fc.oneof(fc.integer({ min: 1, max: 4000 }), fc.constantFrom('62.5', '0.5', '')), {
        nil: undefined,
      }),
      height: fc.option(fc.oneof(fc.integer({ min: 1, max: 4000 }), fc.constantFrom('62.5', '')), {
        nil: undefined,
      }),
      dpr: fc.option(fc.constantFrom('1', '1.5', '2', '3'), { nil: undefined }),
      fit: fc.option(fc.constantFrom('bounds', 'cover', 'crop'), { nil: undefined }),
      quality: fc.option(fc.constantFrom(1, 50, 75, 80, 100), { nil: undefined }),
      format: fc.option(fc.constantFrom('pjpg', 'jpg', 'png', 'webp', 'avif'), { nil: undefined }),
      auto: fc.option(fc.constantFrom('webp', 'avif'), { nil: undefined }),
      'bg-color': fc.option(
        fc.constantFrom('fff', 'FFFFFF', '255,255,255', '0,255,0,0.5', '00ff0080', '256,0,0'),
        {
          nil: undefined,
        },
      ),
      canvas: fc.option(
        fc.constantFrom('240:300', '240,300', '240:', '300,200,x10,offset-y20', '3:2,offset-x50'),
        {
          nil: undefined,
        },
      ),
      store: fc.option(fc.constantFrom('default', 'EN_US'), { nil: undefined }),
    });
    const accept = fc.constantFrom(chrome, 'image/webp,*/*', '*/*', 'image/avif', undefined);
    const file = fc.constantFrom(
      'catalog/product/m/b/mb01-blue%200.jpg',
      'catalog/product/a/logo.png',
      'catalog/category/x/y/z.JPG',
      `catalog/product/cache/${hash}/m/b/mb01.jpg`,
      `catalog/product/cache/${hash}/w/b/wb04-blue_main.png`,
      'attribute/swatch/swatch_image/30x20/r/e/red.png',
    );
    await fc.assert(
      fc.asyncProperty(params, accept, file, async (p, a, f) => {
        const query = Object.entries(p)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join('&');
        const uri = `/media/${f}`;
        const expected = imageServeKey(uri, query, a);
        const out = await viewerRequest(uri, query, a);
        if (expected === undefined) {
          expect(out.uri).toBe(uri);
          return;
        }
        const [key = '', , message] = expected.split('|');
        expect(decodeURIComponent(out.uri)).toBe(`/derived/${key}`);
        // …imageServe accepts the rewritten path as the same picture, and the forwarded request as the same request.
        const back = parseImageUrl(out.uri, '', rules);
        expect(back.originalKey).toBe(key.slice(0, key.lastIndexOf('/')));
        const viewer = out.headers['x-image-request']?.value ?? '';
        const [path = '', forwarded = ''] = viewer.split('?');
        expect(parseImageUrl(path, forwarded, rules).signedMessage).toBe(message);
      }),
      { numRuns: 300 },
    );
    // A budget for a loaded machine (the property runs 300 requests through the function), not a timing.
  }, 60_000);
});
