import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';

/** A client for the embedded S3 (moto) from the variables global setup exported. */
export function embeddedS3(): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: run through the integration project');
  return new S3Client({ endpoint, forcePathStyle: true, region: process.env.AWS_REGION ?? 'us-east-1' });
}

/** Creates a bucket with a unique name so test files never see each other's objects. */
export async function freshBucket(s3: S3Client, prefix = 'm2-test'): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<void> {
  const keys = await listKeys(s3, bucket);
  if (keys.length > 0) {
    await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function putObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Buffer | string,
): Promise<string> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return out.ETag ?? '';
}

export async function getObject(s3: S3Client, bucket: string, key: string) {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { ...out, bytes: Buffer.from((await out.Body?.transformToByteArray()) ?? []) };
}

export async function headObject(s3: S3Client, bucket: string, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}

/** S3 form-encodes keys in notifications: spaces become `+`, a literal `+` becomes `%2B`. */
export const formEncodeKey = (key: string): string =>
  encodeURIComponent(key).replaceAll('%20', '+').replaceAll('%2F', '/');

let sequence = 0x1000;

/** An S3 notification as S3 sends it, with form-encoded keys and increasing sequencers. */
export function s3Event(
  bucket: string,
  records: readonly { action: 'created' | 'removed'; key: string; size?: number }[],
): S3Event {
  return {
    Records: records.map((r) => {
      sequence += 1;
      return {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: r.action === 'created' ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete',
        userIdentity: { principalId: 'AWS:TEST' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'TEST', 'x-amz-id-2': 'TEST' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'test',
          bucket: { name: bucket, ownerIdentity: { principalId: 'TEST' }, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: formEncodeKey(r.key),
            size: r.size ?? (r.action === 'created' ? 1 : 0),
            eTag: '',
            sequencer: sequence.toString(16).toUpperCase().padStart(18, '0'),
          },
        },
      };
    }),
  } as S3Event;
}
