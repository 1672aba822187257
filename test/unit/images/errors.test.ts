import { describe, expect, it } from 'vitest';
import {
  ImageError,
  ImageRejectedError,
  ImageRequestError,
  InvalidEventError,
  TransientStorageError,
  VariantBatchError,
} from '../../../lib/images/errors.ts';

const cause = new Error('SlowDown');

describe('image errors', () => {
  it.each<[string, () => ImageError, Record<string, unknown>]>([
    [
      'ImageRejectedError',
      () => new ImageRejectedError('corrupt', 'bad header', { cause }),
      { reason: 'corrupt' },
    ],
    [
      'TransientStorageError',
      () => new TransientStorageError('PutObject failed', { bucket: 'media', key: 'a.jpg' }, { cause }),
      { bucket: 'media', key: 'a.jpg' },
    ],
    [
      'ImageRequestError',
      () => new ImageRequestError(413, 'dimension-too-large', 'too large', { cause }),
      { status: 413, reason: 'dimension-too-large' },
    ],
    ['InvalidEventError', () => new InvalidEventError('not an S3 event', { cause }), {}],
  ])('%s extends ImageError, names itself, carries its context and its cause', (name, make, context) => {
    // Act
    const error = make();
    // Assess
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ name, ...context, cause });
  });

  it('VariantBatchError names the failed keys and carries their errors as the cause', () => {
    // Act
    const error = new VariantBatchError([
      { status: 'failed', key: 'catalog/product/a.jpg', error: cause },
      { status: 'failed', key: 'catalog/product/b.jpg', error: 'timeout' },
    ]);
    // Assess
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({
      name: 'VariantBatchError',
      failedKeys: ['catalog/product/a.jpg', 'catalog/product/b.jpg'],
      cause: [cause, 'timeout'],
      message: '2 record(s) failed and will be retried: catalog/product/a.jpg, catalog/product/b.jpg',
    });
  });
});
