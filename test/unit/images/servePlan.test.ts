import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectOriginal } from '../../../lib/images/decode.ts';
import type { Size } from '../../../lib/images/geometry.ts';
import { defaultImageLimits } from '../../../lib/images/limits.ts';
import { buildCacheTable } from '../../../lib/images/magento/cacheTable.ts';
import { lumaTheme } from '../../../lib/images/magento/lumaImages.ts';
import { magentoPlacement } from '../../../lib/images/magento/magentoGeometry.ts';
import { defaultEncodeSettings } from '../../../lib/images/render.ts';
import { type PlanOptions, renderPlan } from '../../../lib/images/servePlan.ts';
import { renderServed } from '../../../lib/images/serveRender.ts';
import { magentoTransform, type ResizeTransform, type ServeFormat } from '../../../lib/images/transform.ts';

// A 2.4.8 Luma shop's hashes (19 distinct view.xml images), placed with Magento's GD2 geometry.
const table = buildCacheTable({ theme: lumaTheme, algorithm: 'md5' });
const options: PlanOptions = {
  maxDimension: 2560,
  magentoImage: (hash) => {
    const image = table.lookup(hash);
    if (image === undefined) throw new Error(`no Luma image for ${hash}`);
    return { ...image, place: (source: Size) => magentoPlacement(source, image) };
  },
};
const hashOf = (match: (width?: number, height?: number) => boolean): string => {
  const found = [...table.entries].find(([, image]) => match(image.width, image.height));
  if (found === undefined) throw new Error('no such Luma image');
  return found[0];
};
const grid = hashOf((w, h) => w === 240 && h === 300);
const sizeless = hashOf((w, h) => w === undefined && h === undefined);

/** A blue original, with alpha as a PNG. */
async function original(width: number, height: number, alpha = false): Promise<Buffer> {
  const create = { width, height, channels: alpha ? 4 : 3, background: alpha ? '#36c8' : '#36c' } as const;
  return alpha ? sharp({ create }).png().toBuffer() : sharp({ create }).jpeg().toBuffer();
}

async function served(bytes: Buffer, hash: string, resize: ResizeTransform, format: ServeFormat = 'jpeg') {
  const inspected = await inspectOriginal(bytes, defaultImageLimits);
  const plan = renderPlan(inspected, magentoTransform(hash, resize), format, options);
  const image = await renderServed(
    bytes,
    inspected,
    plan.layout,
    plan.encoding,
    defaultEncodeSettings,
    defaultImageLimits,
    plan.before,
  );
  return { plan, image, meta: await sharp(image.body).metadata() };
}

describe('a Magento hash URL with a resize query: Magento first, then the query on its rendition', () => {
  it("crops Luma's 240×300 grid rendition of a landscape photo, letterbox included", async () => {
    // Magento puts 1600×1000 into 240×300 as 240×150 on white, 75 px above and below; a 120×150
    // crop of that keeps the white bands. (From the original alone it would be blue to the edges.)
    const { image, plan } = await served(await original(1600, 1000), grid, {
      kind: 'resize',
      width: 120,
      height: 150,
      fit: 'cover',
    });
    expect(plan.before?.layout.canvas).toEqual({ width: 240, height: 300 });
    expect([image.width, image.height]).toEqual([120, 150]);
    const { data, info } = await sharp(image.body).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    expect(pixel(60, 10).every((c) => c > 240)).toBe(true);
    const [r = 0, , b = 0] = pixel(60, 75);
    expect(b - r).toBeGreaterThan(100);
  });

  it('never upscales past the rendition Magento made', async () => {
    const { image } = await served(await original(1600, 1000), grid, {
      kind: 'resize',
      width: 480,
      height: 600,
      fit: 'inside',
    });
    expect([image.width, image.height]).toEqual([240, 300]);
  });

  it("applies PWA Studio's fit=cover to a size-less hash (the whole original, as GraphQL's URL names it)", async () => {
    const { image } = await served(
      await original(1600, 1000),
      sizeless,
      { kind: 'resize', width: 240, height: 300, fit: 'outside' },
      'webp',
    );
    expect([image.width, image.height]).toEqual([480, 300]);
  });

  it.each([
    ['alone', undefined],
    ['with a resize on top', { kind: 'resize', width: 120, height: 150, fit: 'cover' } as const],
  ])(
    'renders the bare frame where Magento does (a 1×2000 original on the 240×300 grid), %s',
    async (_label, resize) => {
      const bytes = await original(1, 2000);
      const inspected = await inspectOriginal(bytes, defaultImageLimits);
      const plan = renderPlan(inspected, magentoTransform(grid, resize), 'jpeg', options);
      const image = await renderServed(
        bytes,
        inspected,
        plan.layout,
        plan.encoding,
        defaultEncodeSettings,
        defaultImageLimits,
        plan.before,
      );
      const stats = await sharp(image.body).stats();
      expect([image.width, image.height]).toEqual(resize ? [120, 150] : [240, 300]);
      expect(stats.channels.slice(0, 3).every((c) => c.min > 240)).toBe(true);
    },
  );

  it('answers 404, not 500, where Magento writes no file (an unframed side rounds to 0 px)', () => {
    const unframed = { ...(table.lookup(grid) ?? ({} as never)), width: 75, height: 90, keepFrame: false };
    const noFile: PlanOptions = {
      ...options,
      magentoImage: () => ({ ...unframed, place: (source: Size) => magentoPlacement(source, unframed) }),
    };
    const inspected = { sourceSize: { width: 5, height: 997 }, hasAlpha: false };
    expect(() => renderPlan(inspected, magentoTransform(grid), 'jpeg', noFile)).toThrow(
      expect.objectContaining({ status: 404, reason: 'no-magento-rendition' }),
    );
  });

  it('renders exactly the planned size, over Luma hash × original size × box × fit × canvas × format', async () => {
    const side = fc.integer({ min: 1, max: 400 });
    const box = fc.option(fc.integer({ min: 1, max: 800 }), { nil: undefined });
    const canvas = fc.option(
      fc.record({
        mode: fc.constantFrom('pixels' as const, 'ratio' as const),
        width: fc.integer({ min: 1, max: 400 }),
        height: fc.integer({ min: 1, max: 400 }),
      }),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...table.entries.keys()),
        side,
        side,
        box,
        box,
        fc.constantFrom('inside' as const, 'outside' as const, 'cover' as const),
        canvas,
        fc.constantFrom('jpeg' as const, 'png' as const, 'webp' as const),
        fc.boolean(),
        async (hash, w, h, bw, bh, fit, canvasSpec, format, alpha) => {
          const resize: ResizeTransform = {
            kind: 'resize',
            width: bw,
            height: bh,
            fit: bw !== undefined && bh !== undefined ? fit : 'inside',
            canvas: canvasSpec,
            quality: 60,
          };
          const { plan, meta } = await served(await original(w, h, alpha), hash, resize, format);
          // The query's layout is planned on Magento's rendition, which is what Magento would write.
          const magento = magentoPlacement({ width: w, height: h }, table.lookup(hash) ?? ({} as never));
          // (Where Magento's file is the original itself, one pass from the original is the same.)
          expect(plan.before?.layout.canvas ?? { width: w, height: h }).toEqual(magento.canvas);
          expect([meta.width, meta.height]).toEqual([plan.layout.canvas.width, plan.layout.canvas.height]);
          if (canvasSpec === undefined) {
            expect(meta.width ?? 0).toBeLessThanOrEqual(magento.canvas.width);
            expect(meta.height ?? 0).toBeLessThanOrEqual(magento.canvas.height);
          }
        },
      ),
      { numRuns: 80 },
    );
  }, 120_000);
});
