import { describe, expect, it } from 'vitest';
import { loadPwaStudio } from '../../../scripts/demo/pwaStudio.ts';

describe('loadPwaStudio', () => {
  it.each([
    ['onboard', '/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover'],
    [
      'backend',
      'https://backend.test/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover',
    ],
    [
      'cdn',
      'https://cdn.test/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover',
    ],
  ] as const)('runs peregrine’s own makeUrl for the %s setup', async (setup, expected) => {
    // Act
    const pwa = await loadPwaStudio(setup);

    // Assess
    expect(
      pwa.makeUrl('/m/b/mb01.jpg', { type: 'image-product', width: 640, height: 800, fit: 'cover' }),
    ).toBe(expected);
    expect(globalThis).not.toHaveProperty('location');
  });

  it('gives Venia’s srcset with PNG kept as PNG and the 4:5 ratio rounded', async () => {
    // Act
    const srcset = (await loadPwaStudio('onboard'))
      .generateSrcset('m/b/logo.png', 'image-product')
      .split(',\n');

    // Assess
    expect(srcset).toHaveLength(9);
    expect(srcset[0]).toBe(
      '/media/catalog/product/m/b/logo.png?auto=webp&format=png&width=40&height=50&fit=cover 40w',
    );
    expect(srcset.at(-1)).toBe(
      '/media/catalog/product/m/b/logo.png?auto=webp&format=png&width=2560&height=3200&fit=cover 2560w',
    );
  });
});
