import { describe, expect, it } from 'vitest';
import { ImageRejectedError } from '../../../lib/images/errors.ts';
import { assertSourceSize, assertWithinLimits } from '../../../lib/images/limits.ts';

const limits = { maxPixels: 50_000_000, maxFrames: 10, maxSourceBytes: 1000 };

const reasonOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof ImageRejectedError) return error.reason;
    throw error;
  }
};

describe('assertWithinLimits', () => {
  it.each([
    [{ width: 7000, height: 7000 }, undefined],
    [{ width: 7072, height: 7071 }, 'too-many-pixels'],
    [{ width: 100_000, height: 100_000 }, 'too-many-pixels'],
    [{ width: 1000, height: 10_000, pageHeight: 1000, pages: 10 }, undefined],
    [{ width: 1000, height: 11_000, pageHeight: 1000, pages: 11 }, 'too-many-frames'],
    [{ width: 3000, height: 30_000, pageHeight: 3000, pages: 10 }, 'too-many-pixels'],
  ])('%o → %s', (header, reason) => {
    expect(reasonOf(() => assertWithinLimits(header, limits))).toBe(reason);
  });
});

describe('assertSourceSize', () => {
  it.each([
    [0, 'empty'],
    [1, undefined],
    [1000, undefined],
    [1001, 'too-large'],
  ])('%i bytes → %s', (bytes, reason) => {
    expect(reasonOf(() => assertSourceSize(bytes, limits))).toBe(reason);
  });
});
