import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MagentoGeometryError } from '../../../../lib/images/magento/errors.ts';
import type { MagentoImage } from '../../../../lib/images/magento/imageHash.ts';
import { magentoFill, magentoPlacement } from '../../../../lib/images/magento/magentoGeometry.ts';
import { vectors } from './vectors.ts';

const base: MagentoImage = {
  keepAspectRatio: true,
  keepFrame: true,
  keepTransparency: true,
  constrainOnly: true,
  background: [255, 255, 255],
  quality: 80,
};

describe('magentoPlacement against Magento’s Gd2 adapter', () => {
  const name = (v: (typeof vectors.geometry)[number]) =>
    `${v.source.width}×${v.source.height} in ${v.box.width}×${v.box.height} ${JSON.stringify(v.flags)}`;
  it.each(vectors.geometry.map((v) => [name(v), v] as const))(
    'places %s as Magento does',
    (_name, vector) => {
      // Prepare
      const image = { ...base, ...vector.flags, width: vector.box.width, height: vector.box.height };

      // Act / Assess
      if ('error' in vector.output) {
        expect(() => magentoPlacement(vector.source, image)).toThrow(MagentoGeometryError);
        return;
      }
      expect(magentoPlacement(vector.source, image)).toEqual({
        content: { width: vector.dst.width, height: vector.dst.height },
        canvas: vector.output,
        left: vector.dst.x,
        top: vector.dst.y,
      });
    },
  );

  it.each([
    ['no width or height', {}],
    ['a width only', { width: 240 }],
    ['a height only', { height: 300 }],
  ])('keeps the source size for %s (ImageResize does not resize then)', (_name, sides) => {
    const source = { width: 1234, height: 567 };
    expect(magentoPlacement(source, { ...base, ...sides })).toEqual({
      content: source,
      canvas: source,
      left: 0,
      top: 0,
    });
  });
});

describe('magentoPlacement properties', () => {
  const side = fc.integer({ min: 1, max: 6000 });
  const box = fc.integer({ min: 1, max: 2000 });
  const flags = fc.record({
    keepFrame: fc.boolean(),
    keepAspectRatio: fc.boolean(),
    constrainOnly: fc.boolean(),
  });
  const place = (sw: number, sh: number, w: number, h: number, f: Partial<MagentoImage>) => {
    try {
      return magentoPlacement({ width: sw, height: sh }, { ...base, ...f, width: w, height: h });
    } catch (error) {
      if (error instanceof MagentoGeometryError) return undefined;
      throw error;
    }
  };

  it('never makes the canvas or the content exceed the box', () => {
    fc.assert(
      fc.property(side, side, box, box, flags, (sw, sh, w, h, f) => {
        const p = place(sw, sh, w, h, f);
        if (p === undefined) return;
        expect(p.canvas.width).toBeLessThanOrEqual(w);
        expect(p.canvas.height).toBeLessThanOrEqual(h);
        expect(p.content.width).toBeLessThanOrEqual(p.canvas.width);
        expect(p.content.height).toBeLessThanOrEqual(p.canvas.height);
        expect(p.left + p.content.width).toBeLessThanOrEqual(p.canvas.width);
        expect(p.top + p.content.height).toBeLessThanOrEqual(p.canvas.height);
      }),
    );
  });

  it('never upscales a source the box holds whole when constrainOnly keeps the aspect ratio', () => {
    fc.assert(
      fc.property(side, side, box, box, fc.boolean(), (sw, sh, w, h, keepFrame) => {
        fc.pre(w >= sw && h >= sh);
        const p = place(sw, sh, w, h, { keepFrame, constrainOnly: true, keepAspectRatio: true });
        expect(p?.content).toEqual({ width: sw, height: sh });
      }),
    );
  });

  it('gives the box itself as the canvas of a framed size', () => {
    fc.assert(
      fc.property(side, side, box, box, (sw, sh, w, h) => {
        expect(place(sw, sh, w, h, { keepFrame: true })?.canvas).toEqual({ width: w, height: h });
      }),
    );
  });

  it('stretches to the box without keepAspectRatio', () => {
    fc.assert(
      fc.property(side, side, box, box, fc.boolean(), (sw, sh, w, h, keepFrame) => {
        const p = place(sw, sh, w, h, { keepFrame, keepAspectRatio: false });
        expect(p).toEqual({
          content: { width: w, height: h },
          canvas: { width: w, height: h },
          left: 0,
          top: 0,
        });
      }),
    );
  });
});

describe('magentoFill', () => {
  it.each([
    ['a transparent PNG with keepTransparency', base, true, { kind: 'transparent' }],
    ['a JPEG', base, false, { kind: 'colour', rgb: [255, 255, 255] }],
    [
      'a transparent PNG without keepTransparency',
      { ...base, keepTransparency: false, background: [1, 2, 3] as const },
      true,
      { kind: 'colour', rgb: [1, 2, 3] },
    ],
    [
      'Magento’s "nobackground"',
      { ...base, background: [0, 0, 0] as const, noBackground: true },
      false,
      { kind: 'colour', rgb: [0, 0, 0] },
    ],
  ])('fills %s as Gd2 does', (_name, image, transparent, expected) => {
    expect(magentoFill(image, transparent)).toEqual(expected);
  });
});
