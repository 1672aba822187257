import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { httpStatus } from '../common/httpStatus.ts';
import { messageOf } from '../common/messageOf.ts';
import { TransientStorageError } from './errors.ts';
import { assertSourceSize, type ImageLimits } from './limits.ts';

export interface StoredObject {
  readonly etag: string;
  readonly size: number;
}

export interface PutRequest {
  readonly key: string;
  readonly body: Buffer | string;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The storage calls the image pipeline makes, in one bucket. An interface so tests can inject failures. */
export interface VariantStore {
  head(key: string): Promise<StoredObject | undefined>;
  get(key: string): Promise<(StoredObject & { body: Buffer }) | undefined>;
  /**
   * An original, in one request: its declared size is checked against the byte limits before the
   * body is read (an oversized or empty object throws {@link ImageRejectedError} unread).
   */
  getOriginal(key: string, limits: ImageLimits): Promise<(StoredObject & { body: Buffer }) | undefined>;
  put(request: PutRequest): Promise<void>;
  /** Direct children of a folder (delimiter `/`), all pages. */
  list(folder: string): Promise<string[]>;
  /** Deletes keys in batches of 1000; throws if S3 reports any key it could not delete. */
  delete(keys: readonly string[]): Promise<void>;
}

/** {@link VariantStore} on an S3 bucket through an injected SDK v3 client. */
export class S3VariantStore implements VariantStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { etag: out.ETag ?? '', size: out.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.failure('HeadObject', key, error);
    }
  }

  async get(key: string): Promise<(StoredObject & { body: Buffer }) | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
      return { etag: out.ETag ?? '', size: bytes.length, body: bytes };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.failure('GetObject', key, error);
    }
  }

  getOriginal(key: string, limits: ImageLimits): Promise<(StoredObject & { body: Buffer }) | undefined> {
    return readOriginal(this.s3, this.bucket, key, limits);
  }

  async put(request: PutRequest): Promise<void> {
    await writeObject(this.s3, this.bucket, request);
  }

  async list(folder: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: folder,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
        for (const object of out.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw this.failure('ListObjectsV2', folder, error);
    }
    return keys;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      let failed: string[];
      try {
        const out = await this.s3.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        failed = (out.Errors ?? []).map((e) => `${e.Key}: ${e.Code}`);
      } catch (error) {
        throw this.failure('DeleteObjects', batch[0] ?? '', error);
      }
      if (failed.length > 0) {
        throw new TransientStorageError(
          `DeleteObjects failed for ${failed.length} keys: ${failed.slice(0, 5).join(', ')}`,
          {
            bucket: this.bucket,
            key: batch[0] ?? '',
          },
        );
      }
    }
  }

  private failure(operation: string, key: string, error: unknown): TransientStorageError {
    return storageFailure(this.bucket, operation, key, error);
  }
}

/** Wraps a failed S3 call as a {@link TransientStorageError} naming the operation, bucket, key and HTTP status. */
export function storageFailure(
  bucket: string,
  operation: string,
  key: string,
  error: unknown,
): TransientStorageError {
  const status = httpStatus(error);
  const message = messageOf(error);
  return new TransientStorageError(
    `${operation} s3://${bucket}/${key} failed${status ? ` (HTTP ${status})` : ''}: ${message}`,
    { bucket, key },
    { cause: error },
  );
}

/** True for S3's "no such key" in all its spellings (GetObject, HeadObject). */
export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || httpStatus(error) === 404;
}

/** Reads an original with its size checked before the body is downloaded; see {@link VariantStore.getOriginal}. */
export async function readOriginal(
  s3: S3Client,
  bucket: string,
  key: string,
  limits: ImageLimits,
): Promise<(StoredObject & { body: Buffer }) | undefined> {
  let out: GetObjectCommandOutput;
  try {
    out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw storageFailure(bucket, 'GetObject', key, error);
  }
  try {
    assertSourceSize(out.ContentLength ?? 0, limits);
  } catch (error) {
    destroyBody(out);
    throw error;
  }
  let body: Buffer;
  try {
    body = out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
  } catch (error) {
    throw storageFailure(bucket, 'GetObject (body)', key, error);
  }
  // The declared length can lie only if the object changed mid-read; check what actually arrived.
  assertSourceSize(body.length, limits);
  return { etag: out.ETag ?? '', size: body.length, body };
}

/** Stops an unread body so the socket returns to the pool instead of downloading it. */
export function destroyBody(out: GetObjectCommandOutput): void {
  const body = out.Body as { destroy?: () => void } | undefined;
  body?.destroy?.();
}

/** PUTs one derived object with its headers and metadata; returns its ETag. */
export async function writeObject(s3: S3Client, bucket: string, request: PutRequest): Promise<string> {
  try {
    const out = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: request.key,
        Body: request.body,
        ContentType: request.contentType,
        CacheControl: request.cacheControl,
        Metadata: { ...request.metadata },
      }),
    );
    return out.ETag ?? '';
  } catch (error) {
    throw storageFailure(bucket, 'PutObject', request.key, error);
  }
}
