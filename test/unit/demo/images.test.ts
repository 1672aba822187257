import { describe, expect, it } from 'vitest';
import { classifyKey } from '../../../lib/images/keyLayout.ts';
import { originalMediaPath } from '../../../scripts/demo/images.ts';

const layout = { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' };

describe('originalMediaPath', () => {
  it.each([
    ['Aqua.jpg', 'catalog/product/a/q/aqua.jpg'],
    ['Elephants_3840x2160.jpg', 'catalog/product/e/l/elephants_3840x2160.jpg'],
    ['mosaic-a.jpg', 'catalog/product/m/o/mosaic-a.jpg'],
    ['Fresh Flower.jpg', 'catalog/product/f/r/fresh-flower.jpg'],
  ])('puts %s at Magento’s dispersion path %s, which imageVariants treats as an original', (name, key) => {
    // Act
    const actual = originalMediaPath(name, 'catalog/product/');

    // Assess
    expect(actual).toBe(key);
    expect(classifyKey(actual, layout).kind).toBe('original');
  });
});
