import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/errors.ts';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';
import { lumaTheme } from '../../../lib/images/magento/lumaImages.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';

describe('loadImageVariantsConfig', () => {
  it('defaults to Luma presets, all formats and the Magento media layout', () => {
    const config = loadImageVariantsConfig({ MEDIA_BUCKET: 'shop-media' });
    expect(config.bucket).toBe('shop-media');
    expect(config.settings.presets).toEqual(lumaPresets);
    expect(config.settings.formats).toEqual(['jpeg', 'webp', 'avif']);
    expect(config.settings.layout).toEqual({
      mediaPrefix: '',
      roots: ['catalog/product/'],
      derivedPrefix: 'derived/',
    });
    expect(config.settings.limits.maxPixels).toBe(50_000_000);
    expect(config.magento).toBeUndefined();
    expect(config.settings.magentoFormats).toEqual(['jpeg', 'webp']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [
      { MAGENTO_HASH_ALGORITHM: 'md5' },
      { algorithms: ['md5'], cryptKeyParameter: undefined, quality: 80, theme: lumaTheme },
    ],
    [
      { MAGENTO_HASH_ALGORITHM: 'md5', MAGENTO_CRYPT_KEY_PARAMETER: '' },
      { algorithms: ['md5'], cryptKeyParameter: undefined, quality: 80, theme: lumaTheme },
    ],
    [
      { MAGENTO_HASH_ALGORITHM: 'hmac-md5, md5', MAGENTO_CRYPT_KEY_PARAMETER: '/m2/shop/crypt-key' },
      {
        algorithms: ['hmac-md5', 'md5'],
        cryptKeyParameter: '/m2/shop/crypt-key',
        quality: 80,
        theme: lumaTheme,
      },
    ],
    [
      { MAGENTO_HASH_ALGORITHM: 'md5', MAGENTO_JPEG_QUALITY: '90' },
      { algorithms: ['md5'], cryptKeyParameter: undefined, quality: 90, theme: lumaTheme },
    ],
  ])(
    "reads which of Magento's hash sizes to pre-generate from %o (never the crypt key itself)",
    (env, expected) => {
      expect(loadImageVariantsConfig({ MEDIA_BUCKET: 'shop-media', ...env }).magento).toEqual(expected);
    },
  );

  it('refuses hmac-md5 without the parameter that holds the crypt key, naming both variables', () => {
    const act = () =>
      loadImageVariantsConfig({ MEDIA_BUCKET: 'shop-media', MAGENTO_HASH_ALGORITHM: 'hmac-md5' });
    expect(act).toThrow(
      expect.objectContaining({ variables: ['MAGENTO_HASH_ALGORITHM', 'MAGENTO_CRYPT_KEY_PARAMETER'] }),
    );
  });

  it('reads presets and formats from the environment without code changes', () => {
    const config = loadImageVariantsConfig({
      MEDIA_BUCKET: 'shop-media',
      IMAGE_PRESETS: '[{"name":"hero","width":1200,"height":600,"fit":"inside"}]',
      IMAGE_FORMATS: 'webp, jpeg',
      IMAGE_MAX_PIXELS: '24000000',
    });
    expect(config.settings.presets).toEqual([{ name: 'hero', width: 1200, height: 600, fit: 'inside' }]);
    expect(config.settings.formats).toEqual(['webp', 'jpeg']);
    expect(config.settings.limits.maxPixels).toBe(24_000_000);
  });

  it.each([
    [{}, 'MEDIA_BUCKET'],
    [{ MEDIA_BUCKET: 'Bad_Bucket' }, 'MEDIA_BUCKET'],
    [{ MEDIA_BUCKET: 'ok-bucket', IMAGE_PRESETS: 'not json' }, 'IMAGE_PRESETS'],
    [{ MEDIA_BUCKET: 'ok-bucket', IMAGE_PRESETS: '[{"name":"a","width":0,"height":1}]' }, 'IMAGE_PRESETS'],
    [
      {
        MEDIA_BUCKET: 'ok-bucket',
        IMAGE_PRESETS: '[{"name":"a","width":1,"height":1},{"name":"a","width":2,"height":2}]',
      },
      'IMAGE_PRESETS',
    ],
    [{ MEDIA_BUCKET: 'ok-bucket', IMAGE_FORMATS: 'jpeg,gif' }, 'IMAGE_FORMATS'],
    [{ MEDIA_BUCKET: 'ok-bucket', IMAGE_MAX_PIXELS: '5e7' }, 'IMAGE_MAX_PIXELS'],
    [{ MEDIA_BUCKET: 'ok-bucket', AVIF_EFFORT: '10' }, 'AVIF_EFFORT'],
    [{ MEDIA_BUCKET: 'ok-bucket', MAGENTO_HASH_ALGORITHM: 'sha1' }, 'MAGENTO_HASH_ALGORITHM'],
    [{ MEDIA_BUCKET: 'ok-bucket', MAGENTO_CRYPT_KEY_PARAMETER: 'crypt-key' }, 'MAGENTO_CRYPT_KEY_PARAMETER'],
    [{ MEDIA_BUCKET: 'ok-bucket', MAGENTO_IMAGE_FORMATS: 'gif' }, 'MAGENTO_IMAGE_FORMATS'],
    [{ MEDIA_BUCKET: 'ok-bucket', MEDIA_ROOTS: '/catalog/product/' }, 'MEDIA_ROOTS'],
    [{ MEDIA_BUCKET: 'ok-bucket', MEDIA_ROOTS: 'catalog/product/,' }, 'MEDIA_ROOTS'],
    [{ MEDIA_BUCKET: 'ok-bucket', MEDIA_PREFIX: 'media' }, 'MEDIA_PREFIX'],
    [{ MEDIA_BUCKET: 'ok-bucket', DERIVED_PREFIX: 'derived/../x/' }, 'DERIVED_PREFIX'],
    [
      { MEDIA_BUCKET: 'ok-bucket', MEDIA_ROOTS: 'derived/catalog/', DERIVED_PREFIX: 'derived/' },
      'MEDIA_ROOTS',
    ],
  ])('fails the cold start naming the variable for %o', (env, variable) => {
    expect(() => loadImageVariantsConfig(env)).toThrow(ConfigError);
    expect(() => loadImageVariantsConfig(env)).toThrow(variable);
  });
});
