import { createHmac, timingSafeEqual } from 'node:crypto';

/** A signature is the unpadded base64url HMAC-SHA256: always exactly 43 characters of this alphabet. */
const signatureShape = /^[A-Za-z0-9_-]{43}$/;

/**
 * The signature of a canonical request message (see `signedMessage` in imageUrl.ts).
 *
 * @example signatureFor('secret', 'catalog/product/m/b/mb01.jpg/w640.h800.cover') // 43 base64url characters
 */
export function signatureFor(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message, 'utf8').digest('base64url');
}

/**
 * True when `signature` is the HMAC of `message` under one of `secrets` (two may be active during
 * a rotation). The comparison is constant-time over the decoded bytes, and every key is tried so the
 * time taken does not reveal which one matched. A malformed signature is simply not valid.
 */
export function verifySignature(
  secrets: readonly string[],
  message: string,
  signature: string | undefined,
): boolean {
  if (signature === undefined || !signatureShape.test(signature)) return false;
  const given = Buffer.from(signature, 'base64url');
  // The last character carries 2 unused bits: accept only the one canonical spelling.
  if (given.toString('base64url') !== signature) return false;
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(message, 'utf8').digest();
    if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}
