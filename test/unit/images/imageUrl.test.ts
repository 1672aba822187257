import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseFormat } from '../../../lib/images/accept.ts';
import { ImageRequestError } from '../../../lib/images/errors.ts';
import { type ImageUrlRules, parseImageUrl } from '../../../lib/images/imageUrl.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';
import { defaultEncodeSettings } from '../../../lib/images/render.ts';
import {
  normalisedForFormat,
  parseVariantName,
  serveFormats,
  transformId,
  variantName,
} from '../../../lib/images/transform.ts';

const rules: ImageUrlRules = {
  layout: { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' },
  presets: lumaPresets,
  maxDimension: 2560,
};
const path = '/catalog/product/m/b/mb01-blue%200.jpg';

/** The canonical object name a URL resolves to for a client that accepts nothing but JPEG/PNG. */
const nameOf = (rawPath: string, query: string, r: ImageUrlRules = rules): string => {
  const request = parseImageUrl(rawPath, query, r);
  return `${request.relative}/${variantName(request.transform, chooseFormat(request.format, { avif: false, webp: false }, false))}`;
};

/** Status and reason of a refused URL. */
const refusal = (rawPath: string, query: string, r: ImageUrlRules = rules) => {
  try {
    parseImageUrl(rawPath, query, r);
  } catch (error) {
    if (error instanceof ImageRequestError) return [error.status, error.reason];
    throw error;
  }
  return 'accepted';
};

describe('parseImageUrl: accepted forms', () => {
  it.each([
    // PWA Studio (Fastly semantics: bounds=inside, cover=outside, crop=cover)
    [
      'auto=webp&format=pjpg&width=640&height=800&fit=cover',
      'catalog/product/m/b/mb01-blue 0.jpg/w640.h800.outside.jpg',
    ],
    [
      'auto=webp&format=pjpg&width=640&height=800&fit=crop',
      'catalog/product/m/b/mb01-blue 0.jpg/w640.h800.cover.jpg',
    ],
    [
      'auto=webp&format=pjpg&width=640&height=800&fit=bounds',
      'catalog/product/m/b/mb01-blue 0.jpg/w640.h800.inside.jpg',
    ],
    [
      'auto=webp&format=pjpg&width=640&height=800',
      'catalog/product/m/b/mb01-blue 0.jpg/w640.h800.inside.jpg',
    ],
    ['auto=webp&format=pjpg&width=640&quality=75', 'catalog/product/m/b/mb01-blue 0.jpg/w640.inside.q75.jpg'],
    // fit is ignored unless both sides are given
    ['auto=webp&format=pjpg&width=640&fit=crop', 'catalog/product/m/b/mb01-blue 0.jpg/w640.inside.jpg'],
    ['height=300&fit=cover', 'catalog/product/m/b/mb01-blue 0.jpg/h300.inside.jpg'],
    // Magento 2.4 image optimisation parameters: store and image-type do not change the picture
    [
      'width=240&height=300&store=default&image-type=small_image',
      'catalog/product/m/b/mb01-blue 0.jpg/w240.h300.inside.jpg',
    ],
    // presets by name resolve to imageVariants' own keys
    ['preset=category', 'catalog/product/m/b/mb01-blue 0.jpg/category.jpg'],
    ['format=png&preset=thumbnail', 'catalog/product/m/b/mb01-blue 0.jpg/thumbnail.png'],
    ['', 'catalog/product/m/b/mb01-blue 0.jpg/full.inside.jpg'],
    ['format=webp', 'catalog/product/m/b/mb01-blue 0.jpg/full.inside.webp'],
  ])('?%s → %s', (query, expected) => {
    expect(nameOf(path, query)).toBe(expected);
  });

  it.each([
    ['/media/catalog/product/m/b/mb01-blue%200.jpg', 'catalog/product/m/b/mb01-blue 0.jpg'],
    ['/catalog/product/m/b/mb01-blue 0.jpg', 'catalog/product/m/b/mb01-blue 0.jpg'],
    ['/catalog/product/%C3%A9/caf%C3%A9.png', 'catalog/product/é/café.png'],
  ])('reads the original key from %s', (rawPath, relative) => {
    expect(parseImageUrl(rawPath, 'width=100', rules).relative).toBe(relative);
  });

  it('falls back to PNG for .png originals when the client takes neither AVIF nor WebP', () => {
    expect(nameOf('/catalog/product/a/logo.PNG', 'width=100')).toBe(
      'catalog/product/a/logo.PNG/w100.inside.png',
    );
  });

  it('parses the canonical derived path CloudFront falls back with, back to the same request', () => {
    const request = parseImageUrl(
      '/derived/catalog/product/m/b/mb01-blue%200.jpg/w640.h800.cover.q75.avif',
      '',
      rules,
    );
    expect(request).toMatchObject({
      originalKey: 'catalog/product/m/b/mb01-blue 0.jpg',
      transform: { kind: 'resize', width: 640, height: 800, fit: 'cover', quality: 75 },
      format: { kind: 'fixed', format: 'avif' },
      signedMessage: 'catalog/product/m/b/mb01-blue 0.jpg/w640.h800.cover.q75/avif',
    });
    expect(parseImageUrl('/derived/catalog/product/m/b/x.jpg/category.webp', '', rules).transform).toEqual({
      kind: 'preset',
      preset: lumaPresets[4],
    });
  });

  it('negotiates unless format is given without auto', () => {
    expect(parseImageUrl(path, 'format=webp', rules).format).toEqual({ kind: 'fixed', format: 'webp' });
    expect(parseImageUrl(path, 'auto=webp&format=pjpg', rules).format).toEqual({
      kind: 'negotiate',
      fallback: 'jpeg',
    });
    expect(parseImageUrl(path, 'width=10', rules).format).toEqual({ kind: 'negotiate', fallback: 'jpeg' });
  });
});

describe('parseImageUrl: forms the storefront emits (never refused)', () => {
  it.each([
    ['height=62.5&width=50', 'w50.h63.inside'], // Venia: width / (4/5), not rounded
    ['width=6.5', 'w7.inside'],
    ['width=100.4', 'w100.inside'],
    ['quality=80&fit=bounds&height=&width=', 'full.inside.q80'], // Magento's Fastly module, no size
    ['width=640&dpr=2', 'w1280.inside'],
    ['width=240&height=300&dpr=1.5&fit=bounds', 'w360.h450.inside'],
    ['width=2560&height=3200&fit=cover', 'w2048.h2560.outside'], // Venia's largest srcset entry, scaled down
    ['width=2561', 'w2560.inside'],
    ['height=99999', 'h2560.inside'],
    ['width=4000&dpr=3', 'w2560.inside'],
    ['store=EN_US&width=10', 'w10.inside'],
    ['store=Default&image-type=small_image&width=10', 'w10.inside'],
    [
      'width=240&height=300&quality=80&bg-color=255,255,255&fit=bounds&canvas=240:300',
      'w240.h300.inside.q80.bgffffff.a4x5',
    ],
    [
      'width=240&height=300&canvas=240,300&quality=80&bg-color=255,255,255&fit=bounds',
      'w240.h300.inside.q80.bgffffff.c240x300',
    ],
    ['quality=80&bg-color=255,255,255&fit=bounds&height=&width=240&canvas=240:', 'w240.inside.q80.bgffffff'],
    ['width=100&bg-color=a22', 'w100.inside.bgaa2222'],
    ['width=100&bg-color=CF23A5', 'w100.inside.bgcf23a5'],
    ['width=100&bg-color=0,255,0,0.5', 'w100.inside.bg00ff0080'],
    ['width=100&bg-color=00ff0080', 'w100.inside.bg00ff0080'],
    ['width=100&canvas=300,200,x10,offset-y20', 'w100.inside.c300x200.x10.oy20'],
    ['width=100&canvas=3:2,offset-x50', 'w100.inside.a3x2'],
    ['width=100&canvas=5000,10', 'w100.inside.c2560x10'],
    ['optimize=medium&width=100', 'w100.inside'],
  ])('?%s → %s', (query, id) => {
    expect(transformId(parseImageUrl(path, query, rules).transform)).toBe(id);
  });
});

describe('parseImageUrl: refusals', () => {
  it.each([
    ['width=0.5', 400, 'bad-value'], // Fastly's relative sizes: not emitted by any storefront
    ['dpr=11&width=10', 400, 'bad-value'],
    ['bg-color=256,0,0&width=10', 400, 'bad-value'],
    ['bg-color=red&width=10', 400, 'bad-value'],
    ['canvas=0,10&width=10', 400, 'bad-value'],
    ['canvas=10,10,x1,x2&width=10', 400, 'bad-value'],
    ['width=&width=10', 400, 'duplicate-parameter'],
    ['quality=', 400, 'bad-value'],
    ['store=1abc', 400, 'bad-value'],
    ['width=1e3', 400, 'bad-value'],
    ['width=12abc', 400, 'bad-value'],
    ['width=0640', 400, 'bad-value'],
    ['width=0', 400, 'bad-value'],
    ['width=-5', 400, 'bad-value'],
    ['width=%36%34%30', 400, 'bad-value'],
    ['width=+640', 400, 'bad-value'],
    ['width=640&width=640', 400, 'duplicate-parameter'],
    ['width=640&width=320', 400, 'duplicate-parameter'],
    ['Width=640', 400, 'unknown-parameter'],
    ['WIDTH=640', 400, 'unknown-parameter'],
    ['w=640', 400, 'unknown-parameter'],
    ['__proto__=1', 400, 'unknown-parameter'],
    ['constructor=1', 400, 'unknown-parameter'],
    ['width', 400, 'malformed-query'],
    ['=640', 400, 'malformed-query'],
    ['width=640&', 400, 'malformed-query'],
    ['width=640&&height=10', 400, 'malformed-query'],
    ['fit=Cover&width=1&height=1', 400, 'bad-value'],
    ['fit=fill&width=1&height=1', 400, 'bad-value'],
    ['fit=cover', 'accepted', ''],
    ['format=gif', 400, 'bad-value'],
    ['format=PJPG', 400, 'bad-value'],
    ['auto=png', 400, 'bad-value'],
    ['quality=0', 400, 'bad-value'],
    ['quality=101', 400, 'bad-value'],
    ['quality=080', 400, 'bad-value'],
    ['preset=hero', 400, 'unknown-preset'],
    ['preset=category&width=10', 400, 'preset-with-size'],
    ['width=100000', 400, 'bad-value'],
    ['s=abc&width=10', 400, 'signature-not-last'],
  ])('?%s → %s %s', (query, status, reason) => {
    expect(refusal(path, query)).toEqual(status === 'accepted' ? 'accepted' : [status, reason]);
  });

  it.each([
    ['//evil.example.com/catalog/product/x.jpg', 'bad-path'],
    ['https://evil.example.com/catalog/product/x.jpg', 'bad-path'],
    ['catalog/product/x.jpg', 'bad-path'],
    ['/catalog/product/../../etc/passwd', 'bad-path'],
    ['/catalog/product/a/%2e%2e/%2e%2e/secret.jpg', 'bad-path'],
    ['/catalog/product/a/./x.jpg', 'bad-path'],
    ['/catalog/product/a//x.jpg', 'bad-path'],
    ['/catalog/product/', 'bad-path'],
    ['/catalog/product/a%2F..%2F..%2Fx.jpg', 'encoded-separator'],
    ['/catalog/product/a%2f..%2fx.jpg', 'encoded-separator'],
    ['/catalog/product/a%5C..%5Cx.jpg', 'encoded-separator'],
    ['/catalog/product/a%00.jpg', 'encoded-separator'],
    ['/catalog/product/a\\..\\x.jpg', 'bad-path'],
    ['/catalog/product/a%0a.jpg', 'bad-path'],
    ['/catalog/product/%E0%A4%A.jpg', 'bad-encoding'],
    ['/catalog/category/x.jpg', 'outside-originals'],
    ['/media/../catalog/product/x.jpg', 'outside-originals'],
    ['/Catalog/Product/x.jpg', 'outside-originals'],
    ['/derived/catalog/product/m/b/x.jpg/w640.h800.fill.jpg', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/w0640.inside.jpg', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/w640.h800.cover.q75.gif', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/w640.h800.cover.q075.png', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/h800.w640.cover.png', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/full.w640.inside.png', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/full.cover.png', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/w640.outside.png', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/manifest.json', 'bad-variant-name'],
    ['/derived/catalog/product/m/b/x.jpg/hero.jpg', 'bad-variant-name'],
    ['/derived/catalog/product/w640.inside.jpg', 'not-an-original'],
  ])('refuses the path %s (%s)', (rawPath, reason) => {
    expect(refusal(rawPath, '')).toEqual([400, reason]);
  });

  it('refuses parameters on a canonical path, except the signature', () => {
    expect(refusal('/derived/catalog/product/m/x.jpg/w10.inside.jpg', 'width=20')).toEqual([
      400,
      'canonical-with-params',
    ]);
    expect(refusal('/derived/catalog/product/m/x.jpg/w10.inside.jpg', `s=${'A'.repeat(43)}`)).toBe(
      'accepted',
    );
  });

  it('enforces the size allowlist, presets always allowed', () => {
    const listed: ImageUrlRules = { ...rules, allowedSizes: [{ width: 640, height: 800 }, { width: 320 }] };
    expect(refusal(path, 'width=640&height=800&fit=crop', listed)).toBe('accepted');
    expect(refusal(path, 'width=320', listed)).toBe('accepted');
    expect(refusal(path, 'width=321', listed)).toEqual([400, 'size-not-allowed']);
    expect(refusal(path, 'width=320&height=10', listed)).toEqual([400, 'size-not-allowed']);
    expect(refusal(path, '', listed)).toEqual([400, 'size-not-allowed']);
    expect(refusal(path, 'preset=medium', listed)).toBe('accepted');
  });
});

// Each parameter with a generator of its valid spellings.
const validParams = fc.record({
  width: fc.option(fc.integer({ min: 1, max: 2560 }), { nil: undefined }),
  height: fc.option(fc.integer({ min: 1, max: 2560 }), { nil: undefined }),
  fit: fc.option(fc.constantFrom('bounds', 'cover', 'crop'), { nil: undefined }),
  quality: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  format: fc.option(fc.constantFrom('pjpg', 'jpg', 'jpeg', 'png', 'webp', 'avif'), { nil: undefined }),
  auto: fc.option(fc.constantFrom('webp', 'avif'), { nil: undefined }),
  store: fc.option(fc.constantFrom('default', 'fr_store'), { nil: undefined }),
  'image-type': fc.option(fc.constantFrom('small_image', 'thumbnail'), { nil: undefined }),
});
const entriesOf = (p: Record<string, string | number | undefined>): string[] =>
  Object.entries(p)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);

describe('parseImageUrl: properties', () => {
  it('gives every ordering of the same parameters the same request', () => {
    fc.assert(
      fc.property(
        validParams.chain((p) =>
          fc.tuple(
            fc.constant(entriesOf(p)),
            fc.shuffledSubarray(entriesOf(p), { minLength: entriesOf(p).length }),
          ),
        ),
        ([ordered, shuffled]) => {
          expect(parseImageUrl(path, shuffled.join('&'), rules)).toEqual(
            parseImageUrl(path, ordered.join('&'), rules),
          );
        },
      ),
    );
  });

  it('gives URLs that differ only in what does not change the picture the same key', () => {
    fc.assert(
      fc.property(validParams, (p) => {
        const base = nameOf(path, entriesOf(p).join('&'));
        const noBookkeeping = entriesOf({ ...p, store: undefined, 'image-type': undefined }).join('&');
        expect(nameOf(path, noBookkeeping)).toBe(base);
        const jpegSpelling = entriesOf({
          ...p,
          format: p.format === 'pjpg' || p.format === 'jpeg' ? 'jpg' : p.format,
        });
        expect(nameOf(path, jpegSpelling.join('&'))).toBe(base);
        if (p.width === undefined || p.height === undefined) {
          expect(nameOf(path, entriesOf({ ...p, fit: undefined }).join('&'))).toBe(base);
        }
      }),
    );
  });

  it('refuses junk with a 400 or 413 and never throws anything else', () => {
    const junk = fc.stringMatching(/^[a-zA-Z0-9=&%._~+-]{0,40}$/);
    fc.assert(
      fc.property(junk, (query) => {
        const outcome = refusal(path, query);
        if (outcome !== 'accepted') expect([400, 413]).toContain(outcome[0]);
      }),
    );
  });

  it('refuses any query that repeats a parameter', () => {
    fc.assert(
      fc.property(validParams, fc.nat(), (p, pick) => {
        const entries = entriesOf(p);
        fc.pre(entries.length > 0);
        const repeated = entries[pick % entries.length] ?? '';
        expect(refusal(path, [...entries, repeated].join('&'))).toEqual([400, 'duplicate-parameter']);
      }),
    );
  });

  it('round-trips every canonical variant name through the canonical path form', () => {
    fc.assert(
      fc.property(validParams, fc.constantFrom(...serveFormats), (p, format) => {
        const request = parseImageUrl(
          path,
          entriesOf({ ...p, format: undefined, auto: undefined }).join('&'),
          rules,
        );
        const name = variantName(request.transform, format);
        const back = parseVariantName(name, lumaPresets);
        expect(back?.format).toBe(format);
        expect(back && variantName(back.transform, back.format)).toBe(name);
        const canonical = parseImageUrl(`/derived/catalog/product/m/b/mb01-blue%200.jpg/${name}`, '', rules);
        // The canonical path names one encoding: its message is the same transform, that format fixed.
        expect(canonical.signedMessage).toBe(
          `${request.originalKey}/${transformId(request.transform)}/${format}`,
        );
      }),
    );
  });
});

describe('parseImageUrl: Magento hash URLs with a resize query (Fastly on top of Magento)', () => {
  const hash = '2765542505660baab28ecd555e27366e';
  const hashed = `/media/catalog/product/cache/${hash}/m/b/mb01-blue%200.jpg`;

  it.each([
    ['', `cache.${hash}`],
    ['auto=webp&format=pjpg', `cache.${hash}`],
    ['dpr=2&fit=cover&optimize=high&store=EN_US&image-type=small_image', `cache.${hash}`],
    ['height=&width=&canvas=240:', `cache.${hash}`],
    ['auto=webp&format=pjpg&width=240&height=300&fit=cover', `cache.${hash}.w240.h300.outside`],
    ['width=240&height=300&fit=crop', `cache.${hash}.w240.h300.cover`],
    ['width=120&dpr=2', `cache.${hash}.w240.inside`],
    ['height=62.5&width=50', `cache.${hash}.w50.h63.inside`],
    ['width=2560&height=3200&fit=cover', `cache.${hash}.w2048.h2560.outside`],
    ['width=4000&dpr=3', `cache.${hash}.w2560.inside`],
    ['quality=80', `cache.${hash}.full.inside.q80`],
    ['width=100&bg-color=255%2C0%2C0&canvas=3:2', `cache.${hash}.w100.inside.bgff0000.a3x2`],
  ])('?%s → %s', (query, id) => {
    const request = parseImageUrl(hashed, query, rules);
    expect(request.relative).toBe('catalog/product/m/b/mb01-blue 0.jpg');
    expect(transformId(request.transform)).toBe(id);
  });

  it('names Magento rendition alone when the only change is a default quality', () => {
    // quality=80 is the JPEG default: the bytes are Magento's rendition, pre-generated as cache.<hash>.jpg.
    const named = (query: string) =>
      variantName(
        normalisedForFormat(parseImageUrl(hashed, query, rules).transform, 'jpeg', defaultEncodeSettings),
        'jpeg',
      );
    expect(named('quality=80')).toBe(`cache.${hash}.jpg`);
    expect(named('quality=60')).toBe(`cache.${hash}.full.inside.q60.jpg`);
    expect(named('width=240&quality=80')).toBe(`cache.${hash}.w240.inside.jpg`);
  });

  it('gives the resize on top exactly the transform the same query gives a params URL', () => {
    fc.assert(
      fc.property(validParams, (p) => {
        const query = entriesOf(p).join('&');
        const hashTransform = parseImageUrl(hashed, query, rules).transform;
        const params = parseImageUrl(path, query, rules).transform;
        const changes = transformId(params) !== 'full.inside';
        expect(hashTransform).toEqual({ kind: 'magento', hash, ...(changes ? { resize: params } : {}) });
      }),
    );
  });

  it('round-trips every hash variant name through the canonical path form, and only the canonical one', () => {
    fc.assert(
      fc.property(validParams, fc.constantFrom(...serveFormats), (p, format) => {
        const request = parseImageUrl(
          hashed,
          entriesOf({ ...p, format: undefined, auto: undefined }).join('&'),
          rules,
        );
        const name = variantName(request.transform, format);
        const back = parseVariantName(name, lumaPresets);
        expect(back && variantName(back.transform, back.format)).toBe(name);
        const canonical = parseImageUrl(`/derived/catalog/product/m/b/mb01-blue%200.jpg/${name}`, '', rules);
        expect(canonical.signedMessage).toBe(
          `${request.originalKey}/${transformId(request.transform)}/${format}`,
        );
      }),
    );
    for (const name of [
      `cache.${hash}.full.inside.jpg`, // Magento's rendition spelt a second way
      `cache.${hash}.h300.w240.inside.jpg`,
      `cache.${hash}.w240.cover.jpg`, // a fit needs both sides
      `cache.${hash}.medium.jpg`, // a preset is not a resize on top
      `cache.${hash.toUpperCase()}.w240.inside.jpg`,
    ]) {
      expect(parseVariantName(name, lumaPresets), name).toBeUndefined();
    }
  });

  it('holds the resize on top to the size allowlist; Magento sizes themselves pass', () => {
    const listed: ImageUrlRules = { ...rules, allowedSizes: [{ width: 240, height: 300 }] };
    expect(refusal(hashed, 'auto=webp&format=pjpg', listed)).toBe('accepted');
    expect(refusal(hashed, 'width=240&height=300&fit=cover', listed)).toBe('accepted');
    expect(refusal(hashed, 'width=241&height=300&fit=cover', listed)).toEqual([400, 'size-not-allowed']);
  });

  it.each([
    ['preset=medium', 'preset-with-hash'],
    ['width=0.5', 'bad-value'],
    ['width=10&width=20', 'duplicate-parameter'],
    ['blur=5', 'unknown-parameter'],
  ])('refuses ?%s (%s)', (query, reason) => {
    expect(refusal(hashed, query)).toEqual([400, reason]);
  });
});
