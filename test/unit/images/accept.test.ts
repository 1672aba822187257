import { describe, expect, it } from 'vitest';
import { chooseFormat, normalisedAccept, parseAccept } from '../../../lib/images/accept.ts';

describe('parseAccept', () => {
  it.each([
    // Chrome, Firefox, Safari 16+, an old Safari, curl, nothing
    ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', 'image/avif,image/webp'],
    ['image/avif,image/webp,*/*', 'image/avif,image/webp'],
    [
      'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
      'image/avif,image/webp',
    ],
    ['image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5', '*/*'],
    ['*/*', '*/*'],
    [undefined, '*/*'],
    ['', '*/*'],
    // case and whitespace do not matter; q=0 means "not acceptable"
    ['IMAGE/WEBP ; Q=0.9 , Image/Avif', 'image/avif,image/webp'],
    ['image/avif;q=0, image/webp', 'image/webp'],
    ['image/avif;q=0.0,image/webp;q=0', '*/*'],
    ['image/avif;q=abc', '*/*'],
    ['image/webpx,ximage/avif', '*/*'],
  ])('normalises %s to %s', (header, expected) => {
    expect(normalisedAccept(parseAccept(header))).toBe(expected);
  });
});

describe('chooseFormat', () => {
  const all = { avif: true, webp: true };
  it.each([
    [{ kind: 'fixed', format: 'png' } as const, all, true, 'png'],
    [{ kind: 'fixed', format: 'avif' } as const, { avif: false, webp: false }, false, 'webp'], // over AVIF_MAX_PIXELS
    [{ kind: 'negotiate', fallback: 'jpeg' } as const, all, true, 'avif'],
    [{ kind: 'negotiate', fallback: 'jpeg' } as const, all, false, 'webp'],
    [{ kind: 'negotiate', fallback: 'jpeg' } as const, { avif: true, webp: false }, false, 'jpeg'],
    [{ kind: 'negotiate', fallback: 'png' } as const, { avif: false, webp: false }, true, 'png'],
  ])('%o with %o (AVIF in budget: %s) → %s', (request, accepted, avifAllowed, expected) => {
    expect(chooseFormat(request, accepted, avifAllowed)).toBe(expected);
  });
});
