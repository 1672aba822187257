import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImageRequestError } from '../../../lib/images/errors.ts';
import { derivedUrlPrefix, type ImageUrlRules, parseImageUrl } from '../../../lib/images/imageUrl.ts';
import { classifyKey, variantFolder } from '../../../lib/images/keyLayout.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';
import { serveFormats, variantName } from '../../../lib/images/transform.ts';

const rules: ImageUrlRules = {
  layout: {
    mediaPrefix: 'shop/media/',
    roots: ['catalog/product/', 'catalog/category/', 'attribute/swatch/', 'wysiwyg/'],
    derivedPrefix: 'shop/derived/',
  },
  presets: lumaPresets,
  maxDimension: 2560,
};

// Paths built from pieces an attacker would combine: roots, Magento's generated folders, the derived
// prefix, traversal, encodings, other prefixes of the bucket.
const segment = fc.constantFrom(
  'catalog',
  'product',
  'category',
  'attribute',
  'swatch',
  'swatch_thumb',
  '110x90',
  'wysiwyg',
  'cache',
  '0123456789abcdef0123456789abcdef',
  'media',
  'derived',
  'shop',
  'm',
  'b',
  'mb01.jpg',
  '..',
  '.',
  '',
  '%2e%2e',
  '%2F',
  'a%20b.png',
  'import_export',
  'tmp',
);
const rawPath = fc.array(segment, { minLength: 1, maxLength: 8 }).map((s) => `/${s.join('/')}`);
const query = fc.constantFrom('', 'width=100', 'preset=category', 'width=10&canvas=20,20', 's=abc');

describe('derivedUrlPrefix', () => {
  it.each([
    [{ mediaPrefix: '', derivedPrefix: 'derived/' }, 'derived/'],
    [{ mediaPrefix: 'media/', derivedPrefix: 'derived/' }, 'derived/'],
    [{ mediaPrefix: 'shop/media/', derivedPrefix: 'shop/derived/' }, 'derived/'],
    [{ mediaPrefix: 'shop/media/', derivedPrefix: 'variants/' }, 'variants/'],
  ])('maps %o to URLs under /%s, as serverless.imageCdn.js tells the edge', (layout, expected) => {
    expect(derivedUrlPrefix({ ...layout, roots: ['catalog/product/'] })).toBe(expected);
  });

  it('parses a canonical URL below the storage prefix as the variant key it names', () => {
    const request = parseImageUrl('/derived/catalog/product/m/b/mb01.jpg/w10.inside.jpg', '', rules);
    expect(request.originalKey).toBe('shop/media/catalog/product/m/b/mb01.jpg');
  });
});

describe('imageServe keys (property): nothing outside the roots is read, nothing outside the derived prefix written', () => {
  it('maps every accepted URL to an original under a root and a variant under the derived prefix', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rawPath, query, fc.constantFrom(...serveFormats), (path, q, format) => {
        let request: ReturnType<typeof parseImageUrl>;
        try {
          request = parseImageUrl(path, q, rules);
        } catch (error) {
          // Refusals are precise 4xx answers, never anything else.
          expect(error).toBeInstanceOf(ImageRequestError);
          expect((error as ImageRequestError).status).toBeLessThan(500);
          return;
        }
        accepted++;
        expect(classifyKey(request.originalKey, rules.layout).kind).toBe('original');
        expect(rules.layout.roots.some((r) => request.originalKey.startsWith(`shop/media/${r}`))).toBe(true);
        const target = `${variantFolder(request.relative, rules.layout)}${variantName(request.transform, format)}`;
        expect(target.startsWith('shop/derived/')).toBe(true);
        expect(target.split('/')).not.toContain('..');
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
