import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitOutside, placement } from '../../../lib/images/geometry.ts';
import { transformLayout } from '../../../lib/images/transform.ts';

const garden = { width: 2560, height: 1600 };

describe('placement: Fastly fits', () => {
  it('covers the box without cutting anything for outside (Fastly cover)', () => {
    expect(placement(garden, { width: 640, height: 800 }, 'outside')).toEqual({
      content: { width: 1280, height: 800 },
      canvas: { width: 1280, height: 800 },
      left: 0,
      top: 0,
    });
  });

  it('covers the box and crops the centre for cover (Fastly crop)', () => {
    expect(placement(garden, { width: 640, height: 800 }, 'cover')).toEqual({
      content: { width: 1280, height: 800 },
      canvas: { width: 640, height: 800 },
      left: -320,
      top: 0,
    });
  });

  it('crops but never pads or upscales a source smaller than the box', () => {
    expect(placement({ width: 300, height: 200 }, { width: 400, height: 100 }, 'cover')).toEqual({
      content: { width: 300, height: 200 },
      canvas: { width: 300, height: 100 },
      left: 0,
      top: -50,
    });
  });

  it.each([
    [{ width: 640, height: 800 }, 'cover'],
    [{ width: 640, height: 800 }, 'outside'],
    [{ width: 200, height: 100 }, 'cover'],
    [{ width: 75, height: 75 }, 'inside'],
  ] as const)('gives the dimensions sharp gives for %o %s', async (box, fit) => {
    const source = await sharp({ create: { ...garden, channels: 3, background: '#888' } })
      .jpeg()
      .toBuffer();
    const { info } = await sharp(source)
      .resize(box.width, box.height, { fit })
      .toBuffer({ resolveWithObject: true });
    expect(placement(garden, box, fit).canvas).toEqual({ width: info.width, height: info.height });
  });

  it('keeps frame and inside as they were', () => {
    expect(placement(garden, { width: 240, height: 300 }, 'frame').canvas).toEqual({
      width: 240,
      height: 300,
    });
    expect(placement(garden, { width: 240, height: 300 }, 'inside').canvas).toEqual({
      width: 240,
      height: 150,
    });
  });

  it('never upscales, always covers the box where the source allows, and crops within the content', () => {
    const side = fc.integer({ min: 1, max: 10_000 });
    fc.assert(
      fc.property(side, side, side, side, (w, h, bw, bh) => {
        const content = fitOutside({ width: w, height: h }, { width: bw, height: bh });
        expect(content.width).toBeLessThanOrEqual(w);
        expect(content.height).toBeLessThanOrEqual(h);
        expect(content.width >= Math.min(bw, w) - 1 || content.height >= Math.min(bh, h) - 1).toBe(true);
        const p = placement({ width: w, height: h }, { width: bw, height: bh }, 'cover');
        expect(p.left).toBeLessThanOrEqual(0);
        expect(p.top).toBeLessThanOrEqual(0);
        expect(p.canvas.width - p.left).toBeLessThanOrEqual(p.content.width);
        expect(p.canvas.height - p.top).toBeLessThanOrEqual(p.content.height);
        expect(p.canvas.width).toBeLessThanOrEqual(bw);
        expect(p.canvas.height).toBeLessThanOrEqual(bh);
      }),
    );
  });
});

describe('transformLayout', () => {
  it.each([
    [{ kind: 'resize', width: 640, fit: 'inside' } as const, { width: 640, height: 400 }],
    [{ kind: 'resize', height: 400, fit: 'inside' } as const, { width: 640, height: 400 }],
    [{ kind: 'resize', fit: 'inside' } as const, { width: 2560, height: 1600 }],
    [{ kind: 'resize', width: 5000, fit: 'inside' } as const, { width: 2560, height: 1600 }],
    [{ kind: 'resize', width: 640, height: 800, fit: 'cover' } as const, { width: 640, height: 800 }],
  ])('places %o on a 2560×1600 original at %o', (transform, canvas) => {
    expect(transformLayout(garden, transform, 2560).canvas).toEqual(canvas);
  });

  it('caps a size-less request and a long outside request at the maximum dimension', () => {
    expect(
      transformLayout({ width: 8000, height: 4000 }, { kind: 'resize', fit: 'inside' }, 2560).canvas,
    ).toEqual({
      width: 2560,
      height: 1280,
    });
    const tall = { width: 1000, height: 20_000 };
    const p = transformLayout(tall, { kind: 'resize', width: 1000, height: 10, fit: 'outside' }, 2560);
    expect(p.canvas).toEqual({ width: 128, height: 2560 });
    expect(p.content).toEqual(p.canvas);
  });
});
