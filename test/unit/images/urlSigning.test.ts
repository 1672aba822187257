import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseImageUrl } from '../../../lib/images/imageUrl.ts';
import { lumaPresets } from '../../../lib/images/presets.ts';
import { signatureFor, verifySignature } from '../../../lib/images/urlSigning.ts';

const current = 'k1-0123456789abcdef0123456789abcdef';
const next = 'k2-fedcba9876543210fedcba9876543210';
const rules = {
  layout: { mediaPrefix: '', roots: ['catalog/product/'], derivedPrefix: 'derived/' },
  presets: lumaPresets,
  maxDimension: 2560,
};
const path = '/catalog/product/m/b/mb01.jpg';
const message = 'catalog/product/m/b/mb01.jpg/w640.h800.cover/auto.jpeg';
const good = signatureFor(current, message);

/** Known answers computed by OpenSSL (test/fixtures/images/url-signing-vectors.sh made this file). */
interface SigningVector {
  readonly name: string;
  readonly key: string;
  readonly path: string;
  readonly query: string;
  readonly message: string;
  readonly hmacHex: string;
  readonly signature: string;
}
const { vectors }: { vectors: readonly SigningVector[] } = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '..', '..', 'fixtures', 'images', 'url-signing-vectors.json'),
    'utf8',
  ),
);

/** Parses like imageServe does, then verifies like imageServe does: true, false, or the parse refusal. */
function accepted(rawPath: string, query: string, keys: readonly string[] = [current]): boolean | string {
  try {
    const request = parseImageUrl(rawPath, query, rules);
    return verifySignature(keys, request.signedMessage, request.signature);
  } catch (error) {
    return (error as { reason?: string }).reason ?? 'threw';
  }
}

describe('the signing contract, pinned by OpenSSL', () => {
  it('has vectors whose signatures use both base64url-only characters', () => {
    // A vector set without "-" and "_" would not tell base64url from base64.
    expect(vectors.some((v) => v.signature.includes('-'))).toBe(true);
    expect(vectors.some((v) => v.signature.includes('_'))).toBe(true);
  });

  it.each(vectors)('signs $name as OpenSSL does', (vector) => {
    // Act
    const signature = signatureFor(vector.key, vector.message);

    // Assess
    expect(signature).toBe(vector.signature);
    expect(Buffer.from(signature, 'base64url').toString('hex')).toBe(vector.hmacHex);
  });

  it.each(vectors)('builds the signed message of $name from the request', (vector) => {
    // Act
    const request = parseImageUrl(vector.path, vector.query, rules);

    // Assess
    expect(request.signedMessage).toBe(vector.message);
  });

  it.each(vectors)("accepts $name with OpenSSL's signature as the last parameter", (vector) => {
    // Prepare
    const query = vector.query === '' ? `s=${vector.signature}` : `${vector.query}&s=${vector.signature}`;

    // Act / Assess
    expect(accepted(vector.path, query, [vector.key])).toBe(true);
    expect(accepted(vector.path, query, [current === vector.key ? next : current])).toBe(false);
  });
});

describe('signatureFor / verifySignature', () => {
  it('produces 43 base64url characters', () => {
    expect(good).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('accepts either of two active keys (rotation) and nothing else', () => {
    expect(verifySignature([current, next], message, good)).toBe(true);
    expect(verifySignature([current, next], message, signatureFor(next, message))).toBe(true);
    expect(verifySignature([next], message, good)).toBe(false);
    expect(verifySignature([], message, good)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['truncated', good.slice(0, 42)],
    ['one character longer', `${good}A`],
    ['padded', `${good}=`],
    ['upper-cased', good.toUpperCase()],
    ['standard base64 alphabet', Buffer.from(good, 'base64url').toString('base64')],
    ['hex', Buffer.from(good, 'base64url').toString('hex')],
    ['last character with unused bits set', `${good.slice(0, 42)}${good.endsWith('A') ? 'B' : 'A'}`],
  ])('refuses a %s signature', (_label, signature) => {
    expect(verifySignature([current], message, signature)).toBe(false);
  });
});

describe('signed URLs: bypass attempts', () => {
  const query = `width=640&height=800&fit=crop&s=${good}`;

  it('accepts the signed URL, in any parameter order before the signature', () => {
    expect(accepted(path, query)).toBe(true);
    expect(accepted(path, `fit=crop&height=800&width=640&s=${good}`)).toBe(true);
    expect(accepted(path, `auto=webp&format=pjpg&width=640&height=800&fit=crop&s=${good}`)).toBe(true);
  });

  it('holds for a canonical path only with the signature of its one format', () => {
    const webp = signatureFor(current, 'catalog/product/m/b/mb01.jpg/w640.h800.cover/webp');
    expect(accepted('/derived/catalog/product/m/b/mb01.jpg/w640.h800.cover.webp', `s=${webp}`)).toBe(true);
    expect(accepted('/derived/catalog/product/m/b/mb01.jpg/w640.h800.cover.webp', `s=${good}`)).toBe(false);
  });

  it.each([
    ['a changed size', `width=641&height=800&fit=crop&s=${good}`, false],
    ['a changed fit', `width=640&height=800&fit=cover&s=${good}`, false],
    ['an added quality', `width=640&height=800&fit=crop&quality=99&s=${good}`, false],
    ['no signature', 'width=640&height=800&fit=crop', false],
    ['a fixed format instead of negotiation', `width=640&height=800&fit=crop&format=avif&s=${good}`, false],
    ['another fallback format', `width=640&height=800&fit=crop&auto=webp&format=png&s=${good}`, false],
    [
      'the signature first (thumbor CVE-2026-53501: position matters)',
      `s=${good}&width=640&height=800&fit=crop`,
      'signature-not-last',
    ],
    ['the signature twice', `width=640&height=800&fit=crop&s=${good}&s=${good}`, 'signature-not-last'],
    [
      'the signature twice, around a parameter',
      `s=${good}&width=640&height=800&fit=crop&s=${good}`,
      'signature-not-last',
    ],
    ['the signature smuggled into another value', `width=640&height=800&fit=crop&store=${good}`, 'bad-value'],
    ['an upper-case parameter name', `width=640&height=800&fit=crop&S=${good}`, 'unknown-parameter'],
    ['an upper-case value', `width=640&height=800&fit=CROP&s=${good}`, 'bad-value'],
    [
      'a percent-encoded signature',
      `width=640&height=800&fit=crop&s=${encodeURIComponent(`${good}=`)}`,
      'bad-value',
    ],
  ])('refuses %s', (_label, q, expected) => {
    expect(accepted(path, q)).toBe(expected);
  });

  it.each([
    ['another original', '/catalog/product/m/b/mb02.jpg', false],
    ['an encoded slash', '/catalog/product/m%2Fb/mb01.jpg', 'encoded-separator'],
    ['a dot segment', '/catalog/product/m/b/../b/mb01.jpg', 'bad-path'],
    ['a different case', '/catalog/product/M/b/mb01.jpg', false],
  ])('refuses the signature for %s', (_label, rawPath, expected) => {
    expect(accepted(rawPath, query)).toBe(expected);
  });
});
