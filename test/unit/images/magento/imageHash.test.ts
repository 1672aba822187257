import { describe, expect, it } from 'vitest';
import { CryptKeyError } from '../../../../lib/images/magento/errors.ts';
import {
  magentoCacheHash,
  magentoHmacKey,
  magentoParamString,
} from '../../../../lib/images/magento/imageHash.ts';
import { imageOfMiscParams, vectors } from './vectors.ts';

describe('magentoCacheHash against Magento’s own PHP', () => {
  it.each(vectors.hashes.map((v) => [`${v.group}: ${v.id}`, v] as const))(
    'reproduces the parameter string and the 2.4.8 md5 of %s',
    (_name, vector) => {
      // Prepare
      const image = imageOfMiscParams(vector.miscParams);

      // Act / Assess
      expect(magentoParamString(image)).toBe(vector.paramString);
      expect(magentoCacheHash(image, 'md5')).toBe(vector.md5);
    },
  );

  const hmacCases = vectors.hashes.flatMap((v) =>
    v.hmacMd5.map((h) => [`${v.id} / key ${JSON.stringify(h.cryptKey.slice(0, 12))}…`, v, h] as const),
  );
  it.each(hmacCases)('reproduces the 2.4.7 HMAC-MD5 of %s', (_name, vector, { cryptKey, hash }) => {
    expect(magentoCacheHash(imageOfMiscParams(vector.miscParams), 'hmac-md5', cryptKey)).toBe(hash);
  });

  it('covers every crypt key shape the vectors were made with', () => {
    expect(vectors.cryptKeys.map((k) => k.name)).toHaveLength(4);
    expect(vectors.hashes.every((v) => v.hmacMd5.length === vectors.cryptKeys.length)).toBe(true);
  });
});

describe('magentoHmacKey', () => {
  it.each([
    [
      'a legacy key as its bytes',
      'f3a9c0d1e2b4a5968778695a4b3c2d1e',
      Buffer.from('f3a9c0d1e2b4a5968778695a4b3c2d1e'),
    ],
    ['a base64 key decoded', `base64${Buffer.alloc(32, 7).toString('base64')}`, Buffer.alloc(32, 7)],
    [
      'the last of several',
      'old-key-000000000000000000000000\n  new-key-111111111111111111111111\n',
      Buffer.from('new-key-111111111111111111111111'),
    ],
  ])('takes %s', (_name, value, expected) => {
    expect(magentoHmacKey(value).equals(expected)).toBe(true);
  });

  it.each([[''], ['  \n ']])('throws on an empty crypt key %j', (value) => {
    expect(() => magentoHmacKey(value)).toThrow(CryptKeyError);
  });

  it('throws when hmac-md5 is asked for without a key', () => {
    const image = imageOfMiscParams(vectors.hashes[0]?.miscParams ?? ({} as never));
    expect(() => magentoCacheHash(image, 'hmac-md5')).toThrow(CryptKeyError);
  });
});
