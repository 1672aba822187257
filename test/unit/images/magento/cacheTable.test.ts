import { describe, expect, it } from 'vitest';
import { buildCacheTable } from '../../../../lib/images/magento/cacheTable.ts';
import { lumaTheme } from '../../../../lib/images/magento/lumaImages.ts';
import { imageOfMiscParams, vectors } from './vectors.ts';

const luma = vectors.hashes.filter((v) => v.group === 'luma');
const keys = vectors.cryptKeys.map((k) => k.value);

describe('buildCacheTable for Luma', () => {
  it.each(luma.map((v) => [v.id, v] as const))('finds %s by the md5 Magento 2.4.8 emits', (_id, vector) => {
    const table = buildCacheTable({ theme: lumaTheme, algorithm: 'md5' });
    expect(table.lookup(vector.md5)).toEqual(imageOfMiscParams(vector.miscParams));
  });

  it('finds every 2.4.7 HMAC hash under every crypt key, and the 2.4.8 md5, when both are enabled', () => {
    // Prepare
    const table = buildCacheTable({ theme: lumaTheme, algorithm: ['md5', 'hmac-md5'], cryptKeys: keys });

    // Act
    const misses = luma
      .flatMap((v) => [v.md5, ...v.hmacMd5.map((h) => h.hash)])
      .filter((h) => !table.lookup(h));

    // Assess
    expect(misses).toEqual([]);
    // 19 distinct sizes × (1 md5 + 4 keys).
    expect(table.entries.size).toBe(new Set(luma.map((v) => v.md5)).size * (1 + keys.length));
  });

  it('answers nothing for a hash the theme cannot emit, nor for another algorithm’s', () => {
    const hmacOnly = buildCacheTable({ theme: lumaTheme, algorithm: 'hmac-md5', cryptKeys: [keys[0] ?? ''] });
    expect(hmacOnly.lookup(luma[0]?.md5 ?? '')).toBeUndefined();
    expect(hmacOnly.lookup('00000000000000000000000000000000')).toBeUndefined();
  });

  it('hashes with the store’s jpeg quality', () => {
    const q90 = vectors.hashes.find((v) => v.id === 'jpeg quality 90');
    const table = buildCacheTable({ theme: lumaTheme, algorithm: 'md5', quality: 90 });
    expect(q90 && table.lookup(q90.md5)?.quality).toBe(90);
  });

  it('includes a configured watermark in the hash', () => {
    const wm = vectors.hashes.find((v) => v.id === 'watermark configured for small_image');
    const table = buildCacheTable({
      theme: lumaTheme,
      algorithm: 'md5',
      watermarks: {
        small_image: { file: 'stores/1/wm.png', opacity: '30', position: 'center', width: 100, height: 50 },
      },
    });
    expect(wm && table.lookup(wm.md5)?.watermark?.file).toBe('stores/1/wm.png');
  });

  it('throws when hmac-md5 is enabled without a crypt key', () => {
    expect(() => buildCacheTable({ theme: lumaTheme, algorithm: 'hmac-md5' })).toThrow(TypeError);
  });
});
