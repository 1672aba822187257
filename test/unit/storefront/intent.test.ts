import { describe, expect, it } from 'vitest';
import { expectedOutput, type ImageIntent } from '../../helpers/storefront/intent.ts';

const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const oldSafari = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';
const jpeg = { kind: 'negotiate', fallback: 'jpeg' } as const;
const base: ImageIntent = { original: 'catalog/product/m/b/mb01.jpg', fit: 'bounds', format: jpeg };

describe('expectedOutput', () => {
  it.each([
    ['bounds inside the box', { width: 240, height: 300 }, { width: 2000, height: 1000 }, [240, 120]],
    [
      'cover over the box, one side beyond it',
      { width: 640, height: 800, fit: 'cover' },
      { width: 2000, height: 2000 },
      [800, 800],
    ],
    ['crop to the box', { width: 640, height: 800, fit: 'crop' }, { width: 2000, height: 2000 }, [640, 800]],
    [
      'a small original never upscaled (cover)',
      { width: 640, height: 800, fit: 'cover' },
      { width: 300, height: 200 },
      [300, 200],
    ],
    [
      'a small original never upscaled (crop)',
      { width: 640, height: 800, fit: 'crop' },
      { width: 600, height: 900 },
      [600, 800],
    ],
    ['width only', { width: 48 }, { width: 480, height: 240 }, [48, 24]],
    ['height only', { height: 50 }, { width: 480, height: 240 }, [100, 50]],
    [
      'a fractional height (PWA Studio 50 / 0.8)',
      { width: 50, height: 62.5, fit: 'cover' },
      { width: 1000, height: 1250 },
      [50, 63],
    ],
    ['no size: the original', {}, { width: 1234, height: 567 }, [1234, 567]],
    [
      'canvas W:H pads to the ratio',
      { width: 240, height: 300, canvas: { kind: 'ratio', width: 240, height: 300 } },
      { width: 2000, height: 1000 },
      [240, 300],
    ],
    [
      'canvas W:H around a small original',
      { width: 240, height: 300, canvas: { kind: 'ratio', width: 240, height: 300 } },
      { width: 200, height: 100 },
      [200, 250],
    ],
    [
      'canvas W,H is exact',
      { width: 240, height: 300, canvas: { kind: 'exact', width: 240, height: 300 } },
      { width: 100, height: 100 },
      [240, 300],
    ],
  ] as const)('%s', (_name, intent, original, [width, height]) => {
    const out = expectedOutput({ ...base, ...intent }, original, chrome);

    expect([out.width, out.height]).toEqual([width, height]);
  });

  it.each([
    ['negotiates WebP or AVIF when Accept lists them', jpeg, chrome, ['image/webp', 'image/avif']],
    ['falls back to JPEG when Accept lists neither', jpeg, oldSafari, ['image/jpeg']],
    ['falls back to PNG for format=png', { kind: 'negotiate', fallback: 'png' }, oldSafari, ['image/png']],
    ['ignores q=0 entries', jpeg, 'image/webp;q=0,*/*', ['image/jpeg']],
    ['keeps a fixed format whatever Accept says', { kind: 'fixed', type: 'png' }, chrome, ['image/png']],
  ] as const)('%s', (_name, format, accept, types) => {
    expect(expectedOutput({ ...base, format }, { width: 10, height: 10 }, accept).contentTypes).toEqual(
      types,
    );
  });
});
