import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransientStorageError } from '../../../lib/images/errors.ts';
import { S3VariantStore } from '../../../lib/images/variantStore.ts';

// Error paths a real S3 cannot be made to produce on demand: 503 SlowDown, per-key DeleteObjects errors.
const s3 = mockClient(S3Client);
const store = new S3VariantStore(new S3Client({ region: 'us-east-1' }), 'media');

const slowDown = () =>
  new S3ServiceException({
    name: 'SlowDown',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Please reduce your request rate.',
  });

beforeEach(() => {
  s3.reset();
});

describe('S3VariantStore', () => {
  it('answers undefined for a missing object instead of throwing', async () => {
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'Not Found' }),
    );
    expect(await store.head('catalog/product/gone.jpg')).toBeUndefined();
  });

  it('turns a 503 into a TransientStorageError naming the operation, bucket and key', async () => {
    s3.on(PutObjectCommand).rejects(slowDown());
    const attempt = store.put({
      key: 'derived/a.jpg/x.jpg',
      body: 'x',
      contentType: 'image/jpeg',
      cacheControl: 'c',
      metadata: {},
    });
    await expect(attempt).rejects.toBeInstanceOf(TransientStorageError);
    await expect(attempt).rejects.toThrow('PutObject s3://media/derived/a.jpg/x.jpg failed (HTTP 503)');
  });

  it('does not mistake a 403 for a missing object', async () => {
    s3.on(HeadObjectCommand).rejects(
      new S3ServiceException({
        name: 'Forbidden',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'Forbidden',
      }),
    );
    await expect(store.head('catalog/product/a.jpg')).rejects.toThrow(
      'HeadObject s3://media/catalog/product/a.jpg failed (HTTP 403)',
    );
  });

  it('throws when DeleteObjects reports keys it could not delete', async () => {
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'derived/a.jpg/x.jpg', Code: 'InternalError' }] });
    await expect(store.delete(['derived/a.jpg/x.jpg', 'derived/a.jpg/y.jpg'])).rejects.toThrow(
      'DeleteObjects failed for 1 keys: derived/a.jpg/x.jpg: InternalError',
    );
  });

  it('deletes in batches of at most 1000 keys', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    await store.delete(Array.from({ length: 2500 }, (_, i) => `derived/k${i}`));
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectsCommand, 3);
    const sizes = s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete?.Objects?.length);
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it('refuses an oversized original from its declared length without reading the body', async () => {
    let destroyed = false;
    // The SDK's stream body, reduced to the two calls the store may make.
    const body = {
      transformToByteArray: async () => new Uint8Array(2_000_000),
      destroy: () => {
        destroyed = true;
      },
    };
    s3.on(GetObjectCommand).resolves({ ContentLength: 2_000_000, ETag: '"x"', Body: body as never });
    const attempt = store.getOriginal('catalog/product/huge.jpg', {
      maxPixels: 1,
      maxFrames: 1,
      maxSourceBytes: 1_000_000,
    });
    await expect(attempt).rejects.toMatchObject({ name: 'ImageRejectedError', reason: 'too-large' });
    expect(destroyed).toBe(true);
  });
});
