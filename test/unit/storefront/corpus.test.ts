import { describe, expect, it } from 'vitest';
import { storefrontCorpus } from '../../helpers/storefront/corpus.ts';
import { fastlyConfigs, fastlyUrls } from '../../helpers/storefront/fastly.ts';
import {
  graphqlImageUrl,
  lumaImageSizes,
  magentoHashUrls,
  magentoParamsUrls,
  storeCodes,
  transformationQuery,
} from '../../helpers/storefront/magento.ts';
import { magentoHashVectors } from '../../helpers/storefront/magentoHashes.ts';
import { pwaStudioUrls, veniaCallSites } from '../../helpers/storefront/pwaStudio.ts';

// Placeholder hashes until lib/images/magento's table lands: the generators take any lookup.
const placeholderHash = (image: { id: string }) =>
  image.id === 'product_page_image_large'
    ? undefined
    : `${image.id.length.toString(16).padStart(2, '0')}${'0'.repeat(30)}`;
const media = 'https://shop.example.com/media/';
const mb01 = 'catalog/product/m/b/mb01.jpg';
const png = 'catalog/product/w/b/wb04-blue_main.png';
const grid = lumaImageSizes.find((s) => s.id === 'category_page_grid');
const large = lumaImageSizes.find((s) => s.id === 'product_page_image_large');
if (grid === undefined || large === undefined) throw new Error('Luma sizes changed');

describe('PWA Studio URLs (peregrine 15.7.3 makeUrl, generated)', () => {
  it('covers every venia-ui call site that requests a Magento image', () => {
    const requesting = veniaCallSites().filter((s) => s.call !== 'Image src');

    expect(requesting.map((s) => s.site.replace(/:\d+$/, ''))).toEqual(
      expect.arrayContaining([
        'venia-ui/lib/components/Gallery/item.js',
        'venia-ui/lib/components/ProductImageCarousel/carousel.js',
        'venia-ui/lib/components/ProductOptions/swatch.js',
        'peregrine/lib/util/htmlStringImgUrlConverter.js',
      ]),
    );
  });

  it.each([
    ['onboard', '/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover'],
    [
      'backend',
      'https://backend.example.com/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover',
    ],
    [
      'cdn',
      'https://cdn.example.com/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=640&height=800&fit=cover',
    ],
  ] as const)('emits the carousel image in the %s setup', async (setup, url) => {
    const urls = await pwaStudioUrls(setup, 'params', placeholderHash);

    expect(urls.find((u) => u.url === url)?.intent).toEqual({
      original: mb01,
      width: 640,
      height: 800,
      fit: 'cover',
      format: { kind: 'negotiate', fallback: 'jpeg' },
    });
  });

  it('emits what venia really asks for: fractional heights, width-only swatches, 2560x3200, wysiwyg quality', async () => {
    const urls = (await pwaStudioUrls('onboard', 'params', placeholderHash)).map((u) => u.url);

    expect(urls).toEqual(
      expect.arrayContaining([
        '/media/catalog/product/m/b/mb01.jpg?store=default&image-type=small_image&auto=webp&format=pjpg&width=50&height=62.5&fit=cover',
        '/media/catalog/product/m/b/mb01.jpg?store=default&image-type=small_image&auto=webp&format=pjpg&width=840&height=375&fit=cover',
        '/media/attribute/swatch/swatch_thumb/110x90/r/e/red.png?auto=webp&format=png&width=48&fit=cover',
        '/media/catalog/product/w/b/wb04-blue_main.png?auto=webp&format=png&width=2560&height=3200&fit=cover',
        '/media/catalog/product/m/b/mb01.jpg?auto=webp&format=pjpg&width=1600&height=2000&fit=cover',
        '/media/wysiwyg/home/home-main.jpg?auto=webp&format=pjpg&quality=85',
        '/media/catalog/category/women-main.jpg?auto=webp&format=pjpg&width=80&height=100&fit=cover',
      ]),
    );
  });

  it('keeps Magento cache paths and Fastly parameters of GraphQL URLs, PWA Studio setting its own last', async () => {
    const hash = (await pwaStudioUrls('onboard', 'hash', placeholderHash)).map((u) => u.url);
    const fastly = (await pwaStudioUrls('onboard', 'fastly', placeholderHash)).map((u) => u.url);

    expect(hash).toContain(
      `/media/catalog/product/cache/${placeholderHash({ id: 'graphql' })}/m/b/mb01.jpg?auto=webp&format=pjpg&width=100&height=125&fit=cover`,
    );
    expect(fastly).toContain(
      '/media/catalog/product/m/b/mb01.jpg?quality=80&bg-color=255%2C255%2C255&fit=cover&height=125&width=100&auto=webp&format=pjpg',
    );
    // The wishlist's src, verbatim: backend URLs are not rewritten without makeUrl.
    expect(fastly).toContain(
      'https://backend.example.com/media/catalog/product/m/b/mb01.jpg?quality=80&bg-color=255,255,255&fit=bounds&height=&width=',
    );
  });

  it("keeps a verbatim Magento URL's own type as the fallback", async () => {
    const urls = await pwaStudioUrls('onboard', 'params', placeholderHash);
    const verbatim = urls.find(
      (u) =>
        u.url ===
        'https://backend.example.com/media/catalog/product/w/b/wb04-blue_main.png?store=default&image-type=small_image',
    );

    expect(verbatim?.intent.format).toEqual({ kind: 'negotiate', fallback: 'png' });
    expect(verbatim?.source).toMatch(/src \(verbatim\)$/);
  });

  it('restores the globals it sets for peregrine', async () => {
    await pwaStudioUrls('backend', 'params', placeholderHash);

    expect(['STORE_VIEW_CODE', 'location', 'document'].filter((k) => k in globalThis)).toEqual([]);
    expect(process.env.MAGENTO_BACKEND_URL).toBeUndefined();
  });
});

describe("Magento's own URLs", () => {
  it.each([
    [{ ...grid }, 'default', 'width=240&height=300&store=default&image-type=small_image'],
    [{ ...large }, 'en_US', 'store=en_US&image-type=image'],
    [{ id: 'w', type: 'thumbnail', width: 75 }, 'Store2', 'width=75&store=Store2&image-type=thumbnail'],
  ])(
    'builds the image_optimization_parameters query as http_build_query does (%o, %s)',
    (image, store, query) => {
      expect(transformationQuery(image, store)).toBe(query);
    },
  );

  it('uses store codes Magento accepts, up to 32 characters', () => {
    expect(storeCodes.every((c) => /^[a-z]+[a-z0-9_]*$/i.test(c) && c.length <= 32)).toBe(true);
    expect(Math.max(...storeCodes.map((c) => c.length))).toBe(32);
  });

  it('names the cache copy in hash mode and skips images the table does not know', () => {
    const urls = magentoHashUrls(media, [mb01], lumaImageSizes, placeholderHash);

    expect(urls).toHaveLength(lumaImageSizes.length - 1);
    expect(urls[0]).toEqual({
      url: `${media}catalog/product/cache/12000000000000000000000000000000/m/b/mb01.jpg`,
      form: 'magento/hash',
      source: expect.stringContaining('category_page_grid'),
      intent: {
        original: mb01,
        width: 240,
        height: 300,
        fit: 'bounds',
        canvas: { kind: 'exact', width: 240, height: 300 },
        format: { kind: 'negotiate', fallback: 'jpeg' },
      },
    });
  });

  it("names Magento's own hashes when given its known answers", () => {
    const urls = magentoHashUrls(media, [mb01], lumaImageSizes, magentoHashVectors('md5'));
    const hmac = magentoHashVectors({ cryptKey: 'f3a9c0d1e2b4a5968778695a4b3c2d1e' });

    expect(urls.map((u) => u.url)).toContain(
      `${media}catalog/product/cache/2765542505660baab28ecd555e27366e/m/b/mb01.jpg`,
    );
    expect(urls).toHaveLength(lumaImageSizes.length);
    expect(
      hmac({ id: 'category_page_grid', type: 'small_image', width: 240, height: 300, keepFrame: true }),
    ).toBe('e1b8bd04e78b5f65abb7de355d151abe');
    expect(graphqlImageUrl('hash', media, mb01, 'thumbnail', magentoHashVectors('md5'))).toBe(
      `${media}catalog/product/cache/74c1057f7991b4edb2bc7bdaa94de933/m/b/mb01.jpg`,
    );
  });

  it('gives every original × size × store a params URL', () => {
    expect(magentoParamsUrls(media, [mb01, png], lumaImageSizes)).toHaveLength(
      2 * lumaImageSizes.length * storeCodes.length,
    );
  });

  it.each([
    ['params', `${media}${mb01}?store=default&image-type=small_image`],
    ['fastly', `${media}${mb01}?quality=80&bg-color=255,255,255&fit=bounds&height=&width=`],
    ['hash', `${media}catalog/product/cache/07000000000000000000000000000000/m/b/mb01.jpg`],
  ] as const)('returns GraphQL image URLs in %s mode', (mode, url) => {
    expect(graphqlImageUrl(mode, media, mb01, 'small_image', placeholderHash)).toBe(url);
  });
});

describe("Magento's Fastly module URLs (fastly-magento2 1.2.247)", () => {
  const urls = fastlyUrls(media, [mb01, png], lumaImageSizes, fastlyConfigs);
  // Both models can emit the same URL (size-less, canvas off): look it up by form too.
  const find = (url: string, form: string) => urls.find((u) => u.url === url && u.form === form);

  it.each([
    [
      `${mb01}?quality=80&bg-color=255,255,255&fit=bounds&height=300&width=240&canvas=240:300`,
      'fastly/asset',
      240,
      300,
      { kind: 'ratio', width: 240, height: 300 },
    ],
    [
      `${mb01}?quality=80&bg-color=255,255,255&fit=bounds&height=300&width=240&canvas=240:300&dpr=2`,
      'fastly/dpr',
      480,
      600,
      { kind: 'ratio', width: 240, height: 300 },
    ],
    [
      `${mb01}?width=240&height=300&canvas=240,300&quality=80&bg-color=255,255,255&fit=bounds`,
      'fastly/product',
      240,
      300,
      { kind: 'exact', width: 240, height: 300 },
    ],
    [
      `${mb01}?quality=80&bg-color=255,255,255&fit=bounds&height=&width=&canvas=:`,
      'fastly/asset',
      undefined,
      undefined,
      undefined,
    ],
    [
      `${mb01}?quality=80&bg-color=255,255,255&fit=bounds&height=&width=`,
      'fastly/product',
      undefined,
      undefined,
      undefined,
    ],
    [`${mb01}?quality=80&fit=bounds&height=300&width=240`, 'fastly/asset', 240, 300, undefined],
    [`${mb01}?quality=80&fit=bounds&height=&width=`, 'fastly/product', undefined, undefined, undefined],
    [
      `${png}?optimize=medium&bg-color=255,255,255&fit=bounds&height=300&width=240&canvas=240:300&format=jpeg`,
      'fastly/asset',
      240,
      300,
      { kind: 'ratio', width: 240, height: 300 },
    ],
  ] as const)('emits %s', (path, form, width, height, canvas) => {
    const entry = find(`${media}${path}`, form);

    expect(entry?.form).toBe(form);
    expect([entry?.intent.width, entry?.intent.height, entry?.intent.canvas]).toEqual([
      width,
      height,
      canvas,
    ]);
  });

  it('asks for JPEG, whatever Accept says, for force-lossy PNGs', () => {
    const lossy = urls.filter((u) => u.url.endsWith('&format=jpeg'));

    expect(lossy.length).toBeGreaterThan(0);
    expect(new Set(lossy.map((u) => JSON.stringify(u.intent.format)))).toEqual(
      new Set([JSON.stringify({ kind: 'fixed', type: 'jpeg' })]),
    );
  });
});

describe('the whole corpus', () => {
  it('holds every form, each URL once per form', async () => {
    const corpus = await storefrontCorpus(placeholderHash);
    const forms = new Set(corpus.map((u) => u.form));

    expect([...forms].sort()).toEqual([
      'fastly/asset',
      'fastly/dpr',
      'fastly/product',
      'magento/hash',
      'magento/params',
      ...['backend', 'cdn', 'onboard'].flatMap((s) =>
        ['fastly', 'hash', 'media', 'params'].map((m) => `pwa-studio/${s}/${m}`),
      ),
    ]);
    expect(new Set(corpus.map((u) => `${u.form} ${u.url}`)).size).toBe(corpus.length);
  });
});
