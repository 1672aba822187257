import { describe, expect, it } from 'vitest';
import { sniffFormat } from '../../../lib/images/sniff.ts';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('sniffFormat', () => {
  it.each([
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0]), { kind: 'image', format: 'jpeg' }],
    ['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), { kind: 'image', format: 'png' }],
    ['WebP', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), { kind: 'image', format: 'webp' }],
    ['GIF89a', bytes('GIF89a'), { kind: 'image', format: 'gif' }],
    ['TIFF little-endian', bytes([0x49, 0x49, 0x2a, 0x00]), { kind: 'image', format: 'tiff' }],
    ['AVIF', bytes([0, 0, 0, 0x1c], 'ftypavif'), { kind: 'image', format: 'avif' }],
    ['HEIC', bytes([0, 0, 0, 0x18], 'ftypheic'), { kind: 'image', format: 'heif' }],
    ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'), { kind: 'svg' }],
    [
      'SVG with BOM and XML declaration',
      bytes([0xef, 0xbb, 0xbf], '  <?xml version="1.0"?>\n<svg/>'),
      { kind: 'svg' },
    ],
    [
      'SVG behind a doctype',
      bytes('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg/>'),
      { kind: 'svg' },
    ],
    ['plain text', bytes('hello, I am a .jpg'), { kind: 'unknown' }],
    ['an MP4 (ftyp, other brand)', bytes([0, 0, 0, 0x18], 'ftypisom'), { kind: 'unknown' }],
    ['HTML', bytes('<!doctype html><html></html>'), { kind: 'unknown' }],
    ['empty', bytes(), { kind: 'unknown' }],
    ['a truncated JPEG signature', bytes([0xff, 0xd8]), { kind: 'unknown' }],
  ])('recognises %s', (_label, input, expected) => {
    expect(sniffFormat(input)).toEqual(expected);
  });
});
