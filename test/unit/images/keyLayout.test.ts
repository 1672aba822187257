import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyKey,
  decodeEventKey,
  manifestKey,
  variantFolder,
  variantKey,
} from '../../../lib/images/keyLayout.ts';
import { formEncodeKey } from '../../helpers/s3.ts';

const layout = { originalsPrefix: 'catalog/product/', derivedPrefix: 'catalog/product/cache/' };

describe('classifyKey', () => {
  it.each([
    ['catalog/product/a/b/shoe.jpg', { kind: 'original', relative: 'a/b/shoe.jpg' }],
    ['catalog/product/cache/a/b/shoe.jpg/thumbnail.jpg', { kind: 'derived' }],
    ['catalog/product/', { kind: 'folder' }],
    ['catalog/product/a/', { kind: 'folder' }],
    ['catalog/category/banner.jpg', { kind: 'outside' }],
    ['wysiwyg/catalog/product/x.jpg', { kind: 'outside' }],
  ])('%s is %o', (key, expected) => {
    expect(classifyKey(key, layout)).toEqual(expected);
  });
});

describe('variant keys', () => {
  it('puts every variant of one original in its own folder', () => {
    expect(variantFolder('a/b/shoe.jpg', layout)).toBe('catalog/product/cache/a/b/shoe.jpg/');
    expect(variantKey('a/b/shoe.jpg', 'category', 'webp', layout)).toBe(
      'catalog/product/cache/a/b/shoe.jpg/category.webp',
    );
    expect(variantKey('a/b/shoe.jpg', 'category', 'jpeg', layout)).toBe(
      'catalog/product/cache/a/b/shoe.jpg/category.jpg',
    );
    expect(manifestKey('a/b/shoe.jpg', layout)).toBe('catalog/product/cache/a/b/shoe.jpg/manifest.json');
  });

  it('never classifies a variant key as an original (no recursion)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.constantFrom('thumbnail', 'category'),
        (relative, preset) => {
          expect(classifyKey(variantKey(relative, preset, 'avif', layout), layout).kind).toBe('derived');
        },
      ),
    );
  });
});

describe('decodeEventKey', () => {
  it.each([
    ['red+shoe.jpg', 'red shoe.jpg'],
    ['a%2Bb.jpg', 'a+b.jpg'],
    ['gr%C3%B6%C3%9Fe.jpg', 'größe.jpg'],
    ['a/b/c.jpg', 'a/b/c.jpg'],
  ])('%s → %s', (encoded, key) => {
    expect(decodeEventKey(encoded)).toBe(key);
  });

  it('throws on malformed percent-encoding', () => {
    expect(() => decodeEventKey('bad%E0%A4%A.jpg')).toThrow(URIError);
  });

  it('inverts S3 form encoding for any key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (key) => {
        expect(decodeEventKey(formEncodeKey(key))).toBe(key);
      }),
    );
  });
});
