import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ImageRejectedError, TransientStorageError } from '../../../lib/images/errors.ts';
import { S3ServedObjectStore } from '../../../lib/images/servedObjectStore.ts';

// Error paths moto cannot be made to produce on demand: 503 SlowDown, a body that was never read.
const s3 = mockClient(S3Client);
const store = new S3ServedObjectStore(new S3Client({ region: 'us-east-1' }), 'media');
const limits = { maxPixels: 1_000_000, maxFrames: 10, maxSourceBytes: 1000 };

const slowDown = () =>
  new S3ServiceException({
    name: 'SlowDown',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Please reduce your request rate.',
  });

/** A body that records whether anyone read it. */
function trackedBody(bytes: Buffer) {
  const state = { destroyed: false };
  const stream = Readable.from([bytes]);
  stream.on('close', () => {
    state.destroyed = true;
  });
  const body = Object.assign(stream, {
    transformToByteArray: async () => new Uint8Array(bytes),
  }) as unknown as GetObjectCommandOutput['Body'];
  return { body, state };
}

beforeEach(() => {
  s3.reset();
});

describe('S3ServedObjectStore', () => {
  it.each([
    ['getVariant', () => store.getVariant('derived/x.jpg/w1.inside.jpg', undefined, 10)],
    ['getOriginal', () => store.getOriginal('catalog/product/x.jpg', limits)],
  ])('turns a 503 on %s into a TransientStorageError naming bucket and key', async (_label, call) => {
    s3.on(GetObjectCommand).rejects(slowDown());
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientStorageError);
    expect(String((error as Error).message)).toMatch(/GetObject s3:\/\/media\/.+ failed \(HTTP 503\)/);
  });

  it('turns a 503 on PutObject into a TransientStorageError', async () => {
    s3.on(PutObjectCommand).rejects(slowDown());
    await expect(
      store.putVariant({ key: 'k', body: 'x', contentType: 'image/jpeg', cacheControl: 'c', metadata: {} }),
    ).rejects.toBeInstanceOf(TransientStorageError);
  });

  it('refuses an original over the byte limit from its Content-Length, without reading the body', async () => {
    const { body, state } = trackedBody(Buffer.alloc(5000));
    s3.on(GetObjectCommand).resolves({ Body: body, ContentLength: 5000, ETag: '"e"' });
    const error = await store.getOriginal('catalog/product/big.jpg', limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageRejectedError);
    expect((error as ImageRejectedError).reason).toBe('too-large');
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.destroyed).toBe(true);
  });

  it('does not download a cached variant too large for an inline response', async () => {
    const { body, state } = trackedBody(Buffer.alloc(50));
    s3.on(GetObjectCommand).resolves({ Body: body, ContentLength: 50, ETag: '"v"' });
    expect(await store.getVariant('derived/x.jpg/w1.inside.jpg', undefined, 10)).toEqual({
      kind: 'too-large',
      etag: '"v"',
      size: 50,
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.destroyed).toBe(true);
  });
});
