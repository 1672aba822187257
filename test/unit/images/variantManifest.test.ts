import { describe, expect, it } from 'vitest';
import type { KeyLayout } from '../../../lib/images/keyLayout.ts';
import type { RenderedVariant } from '../../../lib/images/render.ts';
import {
  manifestOf,
  readManifest,
  staleVariantKeys,
  type VariantSource,
  variantMetadata,
} from '../../../lib/images/variantManifest.ts';
import type { VariantStore } from '../../../lib/images/variantStore.ts';

const layout: KeyLayout = { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' };
const folder = 'derived/catalog/product/s/h/shoe.jpg/';
const source = (overrides: Partial<VariantSource> = {}): VariantSource => ({
  key: 'catalog/product/s/h/shoe.jpg',
  relative: 'catalog/product/s/h/shoe.jpg',
  etag: '"e1"',
  sequencer: undefined,
  ...overrides,
});
const variant = (preset: string, format: RenderedVariant['format'], bytes: number): RenderedVariant => ({
  preset,
  format,
  body: Buffer.alloc(bytes),
  width: 100,
  height: 80,
});

describe('variantMetadata', () => {
  it.each<[string, Partial<VariantSource>, Record<string, string>]>([
    [
      'names the source key and ETag',
      {},
      { 'source-key': 'catalog%2Fproduct%2Fs%2Fh%2Fshoe.jpg', 'source-etag': '"e1"' },
    ],
    [
      'adds the sequencer when the event had one',
      { sequencer: '0055AED6DCD90281E5' },
      {
        'source-key': 'catalog%2Fproduct%2Fs%2Fh%2Fshoe.jpg',
        'source-etag': '"e1"',
        'source-sequencer': '0055AED6DCD90281E5',
      },
    ],
    [
      'percent-encodes a non-ASCII key (S3 metadata is ASCII)',
      { key: 'catalog/product/ü.jpg' },
      { 'source-key': 'catalog%2Fproduct%2F%C3%BC.jpg', 'source-etag': '"e1"' },
    ],
  ])('%s', (_name, overrides, metadata) => {
    expect(variantMetadata(source(overrides))).toEqual(metadata);
  });
});

describe('manifestOf', () => {
  it('lists every variant by key with its size and the source version', () => {
    // Act
    const manifest = manifestOf(
      source({ sequencer: '01' }),
      [variant('thumbnail', 'jpeg', 10), variant('thumbnail', 'webp', 7)],
      layout,
      new Date(Date.UTC(2026, 10, 28)),
    );
    // Assess
    expect(manifest).toEqual({
      sourceKey: 'catalog/product/s/h/shoe.jpg',
      sourceEtag: '"e1"',
      sequencer: '01',
      generatedAt: '2026-11-28T00:00:00.000Z',
      variants: [
        {
          key: `${folder}thumbnail.jpg`,
          preset: 'thumbnail',
          format: 'jpeg',
          width: 100,
          height: 80,
          bytes: 10,
        },
        {
          key: `${folder}thumbnail.webp`,
          preset: 'thumbnail',
          format: 'webp',
          width: 100,
          height: 80,
          bytes: 7,
        },
      ],
    });
  });
});

describe('staleVariantKeys', () => {
  const manifest = manifestOf(
    source(),
    [variant('small', 'jpeg', 1), variant('small', 'avif', 1)],
    layout,
    new Date(),
  );
  const manifestAt = `${folder}manifest.json`;

  it.each<[string, string[], string[]]>([
    [
      'finds nothing stale in a folder of the current set',
      [`${folder}small.jpg`, `${folder}small.avif`, manifestAt],
      [],
    ],
    ['never counts the manifest as stale', [manifestAt], []],
    [
      'finds variants of presets the manifest no longer has',
      [`${folder}small.jpg`, `${folder}large.jpg`, manifestAt],
      [`${folder}large.jpg`],
    ],
    ['finds on-the-fly sizes', [`${folder}small.jpg`, `${folder}640x800.webp`], [`${folder}640x800.webp`]],
    ['finds nothing in an empty folder', [], []],
  ])('%s', (_name, listed, stale) => {
    expect(staleVariantKeys(listed, manifest, manifestAt)).toEqual(stale);
  });
});

describe('readManifest', () => {
  const unused = (): never => {
    throw new Error('readManifest only reads');
  };
  const storeWith = (body: string | undefined): VariantStore => ({
    get: async () =>
      body === undefined ? undefined : { etag: '"m"', size: body.length, body: Buffer.from(body) },
    head: unused,
    getOriginal: unused,
    put: unused,
    list: unused,
    delete: unused,
  });

  it.each<[string, string | undefined, unknown]>([
    ['reads a manifest', JSON.stringify({ sourceEtag: '"e1"' }), { sourceEtag: '"e1"' }],
    ['answers undefined without one', undefined, undefined],
    ['answers undefined for an unreadable one (regenerate)', '{"sourceEtag":', undefined],
  ])('%s', async (_name, body, manifest) => {
    expect(await readManifest(storeWith(body), `${folder}manifest.json`)).toEqual(manifest);
  });
});
