import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyKey,
  decodeEventKey,
  manifestKey,
  originalKeyOf,
  variantFolder,
  variantKey,
} from '../../../lib/images/keyLayout.ts';
import { formEncodeKey } from '../../helpers/s3.ts';

// A derived prefix nested inside a root, the case that could recurse if classification were naive.
const layout = { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'catalog/product/derived/' };
const prefixed = {
  mediaPrefix: 'shop/media/',
  roots: ['catalog/product/', 'catalog/category/', 'wysiwyg/'],
  derivedPrefix: 'shop/derived/',
};
// What `--remote-storage-prefix=example-shop` makes Magento write (keyLayout.ts names the sources).
const magento = {
  mediaPrefix: 'example-shop/media/',
  roots: ['catalog/product/', 'catalog/category/', 'attribute/swatch/', 'wysiwyg/'],
  derivedPrefix: 'example-shop/derived/',
};

describe('classifyKey', () => {
  it.each([
    ['catalog/product/a/b/shoe.jpg', { kind: 'original', relative: 'catalog/product/a/b/shoe.jpg' }],
    ['catalog/product/derived/catalog/product/a/b/shoe.jpg/thumbnail.jpg', { kind: 'derived' }],
    ['catalog/product/cache/0f6e7e5c6a2f48b2a3c1d4e5f6a7b8c9/a/b/shoe.jpg', { kind: 'magento-cache' }],
    ['catalog/product/', { kind: 'folder' }],
    ['catalog/product/a/', { kind: 'folder' }],
    ['catalog/category/banner.jpg', { kind: 'outside' }],
    ['wysiwyg/catalog/product/x.jpg', { kind: 'outside' }],
  ])('%s is %o', (key, expected) => {
    expect(classifyKey(key, layout)).toEqual(expected);
  });

  it.each([
    [
      'shop/media/catalog/product/a/b/shoe.jpg',
      { kind: 'original', relative: 'catalog/product/a/b/shoe.jpg' },
    ],
    ['shop/media/catalog/category/banner.jpg', { kind: 'original', relative: 'catalog/category/banner.jpg' }],
    ['shop/media/wysiwyg/home/hero.png', { kind: 'original', relative: 'wysiwyg/home/hero.png' }],
    ['shop/derived/catalog/product/a/b/shoe.jpg/thumbnail.jpg', { kind: 'derived' }],
    ['catalog/product/a/b/shoe.jpg', { kind: 'outside' }],
    ['shop/media/attribute/swatch/red.png', { kind: 'outside' }],
    ['shop/import/products.csv', { kind: 'outside' }],
  ])('with a media prefix and several roots, %s is %o', (key, expected) => {
    expect(classifyKey(key, prefixed)).toEqual(expected);
  });

  it.each([
    ['example-shop/media/catalog/product/m/b/mb01.jpg', 'original'],
    ['example-shop/media/catalog/product/placeholder/default/ph.jpg', 'original'],
    ['example-shop/media/catalog/category/gear.jpg', 'original'],
    ['example-shop/media/attribute/swatch/r/e/red.png', 'original'],
    ['example-shop/media/wysiwyg/home/hero.jpg', 'original'],
    [
      'example-shop/media/catalog/product/cache/3b1b8a8e1b9c9d0e2f4a6b8c0d1e2f3a/m/b/mb01.jpg',
      'magento-cache',
    ],
    ['example-shop/media/attribute/swatch/swatch_image/30x20/r/e/red.png', 'magento-cache'],
    ['example-shop/media/attribute/swatch/swatch_thumb/110x90/r/e/red.png', 'magento-cache'],
    ['example-shop/media/tmp/catalog/product/m/b/mb01.jpg', 'outside'],
    ['example-shop/media/catalog/tmp/category/gear.jpg', 'outside'],
    ['example-shop/media/.thumbswysiwyg/home/hero.jpg', 'outside'],
    ['example-shop/import_export/export/products.csv', 'outside'],
    ['example-shop/var/import/images/mb01.jpg', 'outside'],
    ['example-shop/media/catalog/product/m/b/', 'folder'],
    ['example-shop/derived/catalog/product/m/b/mb01.jpg/category.webp', 'derived'],
    ['media/catalog/product/m/b/mb01.jpg', 'outside'],
  ])('of the keys Magento writes with a remote-storage prefix, %s is %s', (key, kind) => {
    expect(classifyKey(key, magento).kind).toBe(kind);
  });
});

describe('variant keys', () => {
  it('puts every variant of one original in its own folder', () => {
    const path = 'catalog/product/a/b/shoe.jpg';
    expect(variantFolder(path, layout)).toBe('catalog/product/derived/catalog/product/a/b/shoe.jpg/');
    expect(variantKey(path, 'category', 'webp', layout)).toBe(
      'catalog/product/derived/catalog/product/a/b/shoe.jpg/category.webp',
    );
    expect(variantKey(path, 'category', 'jpeg', layout)).toBe(
      'catalog/product/derived/catalog/product/a/b/shoe.jpg/category.jpg',
    );
    expect(manifestKey(path, layout)).toBe(
      'catalog/product/derived/catalog/product/a/b/shoe.jpg/manifest.json',
    );
  });

  it('keys an original by the media prefix and its media path', () => {
    expect(originalKeyOf('catalog/product/a/b/shoe.jpg', prefixed)).toBe(
      'shop/media/catalog/product/a/b/shoe.jpg',
    );
    expect(originalKeyOf('catalog/product/a/b/shoe.jpg', layout)).toBe('catalog/product/a/b/shoe.jpg');
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
