import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { CorpusUrl } from '../../helpers/storefront/intent.ts';
import { type FormShare, judge, requestOf, type Serve, servedShare } from '../../helpers/storefront/judge.ts';

const chrome = 'image/avif,image/webp,*/*';
const entry: CorpusUrl = {
  url: '/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover',
  form: 'pwa-studio/onboard/media',
  source: 'test',
  intent: {
    original: 'catalog/product/m/b/mb01.jpg',
    width: 640,
    height: 800,
    fit: 'cover',
    format: { kind: 'negotiate', fallback: 'jpeg' },
  },
};
const original = { width: 1000, height: 1000 };
const image = (width: number, height: number, format: 'webp' | 'jpeg') =>
  sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .toFormat(format)
    .toBuffer();

describe('judge', () => {
  it('accepts the intended size and a negotiated type', async () => {
    const verdict = await judge(
      entry,
      original,
      { status: 200, contentType: 'image/webp', body: await image(800, 800, 'webp') },
      chrome,
    );

    expect(verdict).toEqual({ ok: true });
  });

  it('allows one pixel of rounding', async () => {
    const verdict = await judge(
      entry,
      original,
      { status: 200, contentType: 'image/webp', body: await image(801, 799, 'webp') },
      chrome,
    );

    expect(verdict.ok).toBe(true);
  });

  it.each([
    [
      'a refusal by its status and kind',
      { status: 400, body: 'unknown parameter "auto"' },
      'status 400: unknown parameter "…"',
    ],
    ['a type the client did not ask for', { status: 200, contentType: 'image/png' }, 'content-type'],
    [
      'a body that is not an image',
      { status: 200, contentType: 'image/webp', body: Buffer.from('nope') },
      'undecodable',
    ],
  ])('reports %s', async (_name, response, cause) => {
    const verdict = await judge(entry, original, response, chrome);

    expect(verdict.ok ? undefined : verdict.cause).toBe(cause);
  });

  it('reports a wrong size, and an upscaled one as such', async () => {
    const small = await judge(
      entry,
      original,
      { status: 200, contentType: 'image/webp', body: await image(640, 640, 'webp') },
      chrome,
    );
    const big = await judge(
      entry,
      { width: 300, height: 300 },
      { status: 200, contentType: 'image/webp', body: await image(800, 800, 'webp') },
      chrome,
    );

    expect([small.ok ? '' : small.cause, big.ok ? '' : big.cause]).toEqual(['size', 'upscaled']);
  });
});

describe('servedShare', () => {
  it('counts per form, each distinct URL once per Accept header, failures by cause', async () => {
    const refused = { ...entry, url: `${entry.url}&dpr=2`, form: 'fastly/dpr' };
    const served = await image(800, 800, 'webp');
    const fallback = await image(800, 800, 'jpeg');
    const serve: Serve = async ({ rawQuery, accept }) =>
      rawQuery.includes('dpr')
        ? { status: 400, body: 'unknown parameter "dpr"' }
        : accept.includes('webp')
          ? { status: 200, contentType: 'image/webp', body: served }
          : { status: 200, contentType: 'image/jpeg', body: fallback };

    const shares = await servedShare(
      [entry, entry, refused],
      serve,
      new Map([[entry.intent.original, original]]),
    );

    const expected: FormShare[] = [
      {
        form: 'fastly/dpr',
        total: 2,
        served: 0,
        failures: {
          'status 400: unknown parameter "…"': {
            count: 2,
            example: refused.url,
            detail: 'unknown parameter "dpr"',
          },
        },
      },
      { form: 'pwa-studio/onboard/media', total: 2, served: 2, failures: {} },
    ];
    expect(shares).toEqual(expected);
  });

  it('sends the path and the raw query of absolute and relative URLs', () => {
    expect(
      requestOf('https://shop.example.com/media/a/b.jpg?quality=80&bg-color=255,255,255&height=&width='),
    ).toEqual({
      rawPath: '/media/a/b.jpg',
      rawQuery: 'quality=80&bg-color=255,255,255&height=&width=',
    });
    expect(requestOf('/media/a/b.jpg')).toEqual({ rawPath: '/media/a/b.jpg', rawQuery: '' });
  });
});
