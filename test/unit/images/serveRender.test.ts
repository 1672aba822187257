import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectOriginal } from '../../../lib/images/decode.ts';
import { layoutOf, placement } from '../../../lib/images/geometry.ts';
import { defaultImageLimits } from '../../../lib/images/limits.ts';
import { defaultEncodeSettings } from '../../../lib/images/render.ts';
import { renderServed } from '../../../lib/images/serveRender.ts';
import { type ResizeTransform, transformLayout } from '../../../lib/images/transform.ts';

const limits = defaultImageLimits;
const encode = defaultEncodeSettings;

/** A small synthetic original: a gradient-free flat image is enough for geometry. */
async function original(width: number, height: number, alpha = false): Promise<Buffer> {
  const create = { width, height, channels: alpha ? 4 : 3, background: alpha ? '#8888' : '#888' } as const;
  return alpha ? sharp({ create }).png().toBuffer() : sharp({ create }).jpeg().toBuffer();
}

async function rendered(bytes: Buffer, transform: ResizeTransform, format: 'jpeg' | 'png' | 'webp' = 'jpeg') {
  const inspected = await inspectOriginal(bytes, limits);
  const layout = transformLayout(inspected.sourceSize, transform, 2560);
  const image = await renderServed(
    bytes,
    inspected,
    layout,
    { format, background: transform.background },
    encode,
    limits,
  );
  const meta = await sharp(image.body).metadata();
  return { layout, image, meta };
}

describe('renderServed: the output is exactly the planned canvas', () => {
  it('renders fit=crop 135×170 of a 1000×1250 JPEG (the 1-px excess that used to be a 500)', async () => {
    const { layout, meta } = await rendered(await original(1000, 1250), {
      kind: 'resize',
      width: 135,
      height: 170,
      fit: 'cover',
    });
    expect(layout.content).toEqual({ width: 136, height: 170 });
    expect([meta.width, meta.height]).toEqual([135, 170]);
  });

  it('renders every 4:5 crop box from 10×12 to 600×750 of a 1000×1250 JPEG', async () => {
    const bytes = await original(1000, 1250);
    let checked = 0;
    for (let width = 10; width <= 600; width += 5) {
      const height = Math.round((width * 5) / 4);
      const { layout, meta } = await rendered(bytes, { kind: 'resize', width, height, fit: 'cover' });
      expect([meta.width, meta.height]).toEqual([layout.canvas.width, layout.canvas.height]);
      checked++;
    }
    expect(checked).toBe(119);
    // 119 renders: a budget for a loaded machine, not a timing.
  }, 60_000);

  it('pads a crop further onto a larger canvas, on the same axis', async () => {
    const { layout, meta } = await rendered(
      await original(400, 300, true),
      {
        kind: 'resize',
        width: 100,
        height: 100,
        fit: 'cover',
        canvas: { mode: 'pixels', width: 150, height: 120, x: { px: 5 } },
        background: { r: 255, g: 0, b: 0, alpha: 255 },
      },
      'png',
    );
    expect(layout).toMatchObject({ canvas: { width: 150, height: 120 }, left: 5, top: 10 });
    expect([meta.width, meta.height]).toEqual([150, 120]);
  });

  it('letterboxes Magento Fastly keep_frame (fit=bounds + canvas=240:300) to exactly 240×300', async () => {
    const { meta } = await rendered(await original(2000, 1000), {
      kind: 'resize',
      width: 240,
      height: 300,
      fit: 'inside',
      canvas: { mode: 'ratio', width: 240, height: 300 },
      background: { r: 255, g: 255, b: 255, alpha: 255 },
    });
    expect([meta.width, meta.height]).toEqual([240, 300]);
  });

  it('never throws and always matches the plan, over original size × box × fit × canvas', async () => {
    // Small synthetic originals keep the run in seconds; the geometry is scale-free.
    const side = fc.integer({ min: 1, max: 300 });
    const canvas = fc.option(
      fc.record({
        mode: fc.constantFrom('pixels' as const, 'ratio' as const),
        width: fc.integer({ min: 1, max: 400 }),
        height: fc.integer({ min: 1, max: 400 }),
        x: fc.option(fc.oneof(fc.record({ px: fc.nat(500) }), fc.record({ offset: fc.nat(100) })), {
          nil: undefined,
        }),
        y: fc.option(fc.oneof(fc.record({ px: fc.nat(500) }), fc.record({ offset: fc.nat(100) })), {
          nil: undefined,
        }),
      }),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(
        side,
        side,
        fc.option(side, { nil: undefined }),
        fc.option(side, { nil: undefined }),
        fc.constantFrom('inside' as const, 'outside' as const, 'cover' as const),
        canvas,
        fc.boolean(),
        async (w, h, bw, bh, fit, canvasSpec, alpha) => {
          const transform: ResizeTransform = {
            kind: 'resize',
            width: bw,
            height: bh,
            fit: bw !== undefined && bh !== undefined ? fit : 'inside',
            canvas: canvasSpec,
          };
          const { layout, meta } = await rendered(
            await original(w, h, alpha),
            transform,
            alpha ? 'png' : 'jpeg',
          );
          expect([meta.width, meta.height]).toEqual([layout.canvas.width, layout.canvas.height]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('lays out any placement, even an off-by-one offset, within its canvas', () => {
    const side = fc.integer({ min: 1, max: 5000 });
    fc.assert(
      fc.property(
        side,
        side,
        side,
        side,
        fc.constantFrom('inside', 'outside', 'cover', 'frame'),
        (w, h, bw, bh, fit) => {
          const l = layoutOf(placement({ width: w, height: h }, { width: bw, height: bh }, fit));
          expect(l.window.left + l.window.width).toBeLessThanOrEqual(l.content.width);
          expect(l.window.top + l.window.height).toBeLessThanOrEqual(l.content.height);
          expect(l.left + l.window.width).toBeLessThanOrEqual(l.canvas.width);
          expect(l.top + l.window.height).toBeLessThanOrEqual(l.canvas.height);
          expect(Math.min(l.left, l.top, l.window.left, l.window.top)).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});
