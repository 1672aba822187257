import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { httpStatus } from '../common/httpStatus.ts';
import type { TransientStorageError } from './errors.ts';
import type { ImageLimits } from './limits.ts';
import {
  destroyBody,
  isNotFound,
  type PutRequest,
  readOriginal,
  storageFailure,
  writeObject,
} from './variantStore.ts';

/** A cached variant as found in S3. */
export type CachedVariant =
  | { readonly kind: 'found'; readonly etag: string; readonly contentType: string; readonly body: Buffer }
  /** Larger than a synchronous response can carry: the body was not downloaded. */
  | { readonly kind: 'too-large'; readonly etag: string; readonly size: number }
  | { readonly kind: 'not-modified'; readonly etag: string }
  | { readonly kind: 'missing' };

/** The storage calls imageServe makes, in one bucket. An interface so tests can inject failures. */
export interface ServedObjectStore {
  /**
   * Reads a cached variant. With `ifNoneMatch` (one entity tag), S3 answers "not modified" itself
   * and no body travels; bodies over `maxBytes` are not downloaded.
   */
  getVariant(key: string, ifNoneMatch: string | undefined, maxBytes: number): Promise<CachedVariant>;
  /** Reads an original; refuses (before download) one that is empty or over the byte limit. */
  getOriginal(key: string, limits: ImageLimits): Promise<{ etag: string; body: Buffer } | undefined>;
  /** Writes a variant and returns its ETag. */
  putVariant(request: PutRequest): Promise<string>;
}

/** {@link ServedObjectStore} on an S3 bucket through an injected SDK v3 client. */
export class S3ServedObjectStore implements ServedObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async getVariant(key: string, ifNoneMatch: string | undefined, maxBytes: number): Promise<CachedVariant> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, IfNoneMatch: ifNoneMatch }),
      );
    } catch (error) {
      if (httpStatus(error) === 304 && ifNoneMatch !== undefined)
        return { kind: 'not-modified', etag: ifNoneMatch };
      if (isNotFound(error)) return { kind: 'missing' };
      throw this.failure('GetObject', key, error);
    }
    const etag = out.ETag ?? '';
    const size = out.ContentLength ?? 0;
    if (size > maxBytes) {
      destroyBody(out);
      return { kind: 'too-large', etag, size };
    }
    const body = await this.read(out, key);
    return { kind: 'found', etag, contentType: out.ContentType ?? 'application/octet-stream', body };
  }

  async getOriginal(key: string, limits: ImageLimits): Promise<{ etag: string; body: Buffer } | undefined> {
    return readOriginal(this.s3, this.bucket, key, limits);
  }

  putVariant(request: PutRequest): Promise<string> {
    return writeObject(this.s3, this.bucket, request);
  }

  private async read(out: GetObjectCommandOutput, key: string): Promise<Buffer> {
    try {
      return out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (error) {
      throw this.failure('GetObject (body)', key, error);
    }
  }

  private failure(operation: string, key: string, error: unknown): TransientStorageError {
    return storageFailure(this.bucket, operation, key, error);
  }
}
