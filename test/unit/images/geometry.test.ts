import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitInside, orientedSize, placement, sharedDecodeSize } from '../../../lib/images/geometry.ts';

describe('orientedSize', () => {
  it.each([
    [undefined, 400, 300],
    [1, 400, 300],
    [3, 400, 300],
    [5, 300, 400],
    [6, 300, 400],
    [8, 300, 400],
  ])('orientation %s shows 400×300 as %i×%i', (orientation, width, height) => {
    expect(orientedSize({ width: 400, height: 300 }, orientation)).toEqual({ width, height });
  });
});

describe('fitInside', () => {
  it.each([
    [
      { width: 4000, height: 3000 },
      { width: 240, height: 300 },
      { width: 240, height: 180 },
    ],
    [
      { width: 3000, height: 4000 },
      { width: 240, height: 300 },
      { width: 225, height: 300 },
    ],
    [
      { width: 2560, height: 1600 },
      { width: 75, height: 75 },
      { width: 75, height: 47 },
    ],
    [
      { width: 100, height: 50 },
      { width: 700, height: 700 },
      { width: 100, height: 50 },
    ],
    [
      { width: 10_000, height: 1 },
      { width: 75, height: 75 },
      { width: 75, height: 1 },
    ],
  ])('fits %o inside %o as %o', (source, box, expected) => {
    expect(fitInside(source, box)).toEqual(expected);
  });

  it('never upscales, never exceeds the box and keeps the aspect ratio within rounding', () => {
    const side = fc.integer({ min: 1, max: 20_000 });
    fc.assert(
      fc.property(side, side, side, side, (w, h, bw, bh) => {
        const out = fitInside({ width: w, height: h }, { width: bw, height: bh });
        expect(out.width).toBeLessThanOrEqual(Math.min(w, bw));
        expect(out.height).toBeLessThanOrEqual(Math.min(h, bh));
        expect(out.width).toBeGreaterThanOrEqual(1);
        expect(out.height).toBeGreaterThanOrEqual(1);
        // One pixel of rounding on either side bounds the ratio error.
        expect(Math.abs(out.width * h - out.height * w)).toBeLessThanOrEqual(Math.max(w, h));
      }),
    );
  });
});

describe('placement', () => {
  it('letterboxes a frame preset to the exact box, centred', () => {
    expect(placement({ width: 2560, height: 1600 }, { width: 240, height: 300 }, 'frame')).toEqual({
      content: { width: 240, height: 150 },
      canvas: { width: 240, height: 300 },
      left: 0,
      top: 75,
    });
  });

  it('keeps a small original at its size in the middle of the frame (no upscaling)', () => {
    expect(placement({ width: 50, height: 40 }, { width: 75, height: 75 }, 'frame')).toEqual({
      content: { width: 50, height: 40 },
      canvas: { width: 75, height: 75 },
      left: 12,
      top: 17,
    });
  });

  it('returns the content as the canvas for inside presets', () => {
    const p = placement({ width: 2560, height: 1600 }, { width: 240, height: 300 }, 'inside');
    expect(p.canvas).toEqual({ width: 240, height: 150 });
  });
});

describe('sharedDecodeSize', () => {
  it('decodes only as large as the largest preset needs', () => {
    expect(
      sharedDecodeSize({ width: 5640, height: 3172 }, [
        { width: 75, height: 75 },
        { width: 700, height: 560 },
        { width: 700, height: 700 },
      ]),
    ).toEqual({ width: 700, height: 394 });
  });

  it('keeps the full size when a preset is larger than the original', () => {
    expect(sharedDecodeSize({ width: 640, height: 480 }, [{ width: 700, height: 700 }])).toEqual({
      width: 640,
      height: 480,
    });
  });

  it('is never smaller than any preset content', () => {
    const side = fc.integer({ min: 1, max: 12_000 });
    const box = fc.record({ width: side, height: side });
    fc.assert(
      fc.property(side, side, fc.array(box, { minLength: 1, maxLength: 8 }), (w, h, boxes) => {
        const decode = sharedDecodeSize({ width: w, height: h }, boxes);
        for (const b of boxes) {
          const content = fitInside({ width: w, height: h }, b);
          expect(decode.width).toBeGreaterThanOrEqual(content.width);
          expect(decode.height).toBeGreaterThanOrEqual(content.height);
        }
      }),
    );
  });
});
