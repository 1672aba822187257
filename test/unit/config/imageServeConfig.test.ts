import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/errors.ts';
import { loadImageServeConfig } from '../../../lib/config/imageServeConfig.ts';
import { lumaTheme } from '../../../lib/images/magento/lumaImages.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';

const key = (c: string) => c.repeat(32);
const signingSecret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:m2/image-signing-AbCdEf';

describe('loadImageServeConfig', () => {
  it('defaults to the Magento media layout, Luma presets, 2560 px, no allowlist and no signing', () => {
    const config = loadImageServeConfig({ MEDIA_BUCKET: 'shop-media' });
    expect(config.bucket).toBe('shop-media');
    expect(config.settings.rules).toEqual({
      layout: { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' },
      presets: lumaPresets,
      maxDimension: 2560,
      allowedSizes: undefined,
    });
    expect(config.settings.signingKeys).toEqual([]);
    expect(config.signing).toBeUndefined();
    expect(config.settings.limits).toEqual({
      maxPixels: 50_000_000,
      maxFrames: 100,
      maxSourceBytes: 52_428_800,
    });
    expect(config.settings.maxInlineBytes).toBe(4_000_000);
    expect(Object.isFrozen(config.settings)).toBe(true);
  });

  it('reads the allowlist, the signing secret and the redirect base', () => {
    const config = loadImageServeConfig({
      MEDIA_BUCKET: 'shop-media',
      IMAGE_SIZES: '640x800, 320x,x600',
      IMAGE_SIGNING_SECRET: signingSecret,
      IMAGE_SIGNING_KEYS_TTL_SECONDS: '60',
      REDIRECT_BASE_URL: 'https://cdn.example.com/',
      IMAGE_MAX_DIMENSION: '2048',
    });
    expect(config.settings.rules.allowedSizes).toEqual([
      { width: 640, height: 800 },
      { width: 320, height: undefined },
      { width: undefined, height: 600 },
    ]);
    // The keys themselves are read per request from the secret, never from the environment.
    expect(config.settings.signingKeys).toEqual([]);
    expect(config.signing).toEqual({ secretId: signingSecret, ttlMs: 60_000 });
    expect(config.settings.redirectBaseUrl).toBe('https://cdn.example.com/');
    expect(config.settings.rules.maxDimension).toBe(2048);
  });

  it.each([
    [{ MEDIA_BUCKET: undefined }, 'MEDIA_BUCKET'],
    [{ IMAGE_SIZES: '640*800' }, 'IMAGE_SIZES'],
    [{ IMAGE_SIZES: '0x10' }, 'IMAGE_SIZES'],
    // The old variable put the keys in the template: refused, so such a setup never signs off silently.
    [{ IMAGE_SIGNING_KEYS: `${key('a')},${key('b')}` }, 'IMAGE_SIGNING_SECRET'],
    [{ IMAGE_SIGNING_SECRET: 'm2/image-signing' }, 'IMAGE_SIGNING_SECRET'],
    [{ IMAGE_SIGNING_SECRET: key('a') }, 'IMAGE_SIGNING_SECRET'],
    [
      { IMAGE_SIGNING_SECRET: signingSecret, IMAGE_SIGNING_KEYS_TTL_SECONDS: '0' },
      'IMAGE_SIGNING_KEYS_TTL_SECONDS',
    ],
    [{ IMAGE_MAX_DIMENSION: '2560px' }, 'IMAGE_MAX_DIMENSION'],
    [{ MAX_INLINE_BYTES: '6000000' }, 'MAX_INLINE_BYTES'],
    [{ REDIRECT_BASE_URL: 'http://cdn.example.com/' }, 'REDIRECT_BASE_URL'],
    [{ AVIF_MAX_PIXELS: '-1' }, 'AVIF_MAX_PIXELS'],
    [{ MAGENTO_HASH_ALGORITHM: 'sha1' }, 'MAGENTO_HASH_ALGORITHM'],
    [{ MAGENTO_HASH_ALGORITHM: 'hmac-md5' }, 'MAGENTO_CRYPT_KEY_PARAMETER'],
  ])('fails the cold start naming the variable for %o', (env, variable) => {
    const act = () => loadImageServeConfig({ MEDIA_BUCKET: 'shop-media', ...env });
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(variable);
  });

  it('answers Magento hash URLs only when the shop names its hash algorithm', () => {
    expect(loadImageServeConfig({ MEDIA_BUCKET: 'shop-media' }).magento).toBeUndefined();
    expect(
      loadImageServeConfig({
        MEDIA_BUCKET: 'shop-media',
        MAGENTO_HASH_ALGORITHM: 'hmac-md5,md5',
        MAGENTO_CRYPT_KEY_PARAMETER: '/shop/prod/magento/crypt-key',
      }).magento,
    ).toEqual({
      algorithms: ['hmac-md5', 'md5'],
      cryptKeyParameter: '/shop/prod/magento/crypt-key',
      quality: 80,
      theme: lumaTheme,
    });
  });
});
