import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadImageServeConfig } from '../../../lib/config/imageServeConfig.ts';
import { createImageServeHandler } from '../../../lib/images/imageServeHandler.ts';
import { parseImageUrl } from '../../../lib/images/imageUrl.ts';
import { S3ServedObjectStore } from '../../../lib/images/servedObjectStore.ts';
import { createSecretsManagerSigningKeySource } from '../../../lib/images/signingKeySource.ts';
import { signatureFor } from '../../../lib/images/urlSigning.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { embeddedS3, emptyAndDeleteBucket, freshBucket, putObject } from '../../helpers/s3.ts';
import { capturedTelemetry, lambdaContext } from '../../unit/observability/capture.ts';

// imageServe's signing keys read from Secrets Manager (moto) at run time: the secret's text is what the
// CloudFront KeyValueStore's `signing-keys` holds, `current` or `current,next` during a rotation.
const current = 'current-0123456789abcdef0123456789abcdef';
const next = 'next-0123456789abcdef0123456789abcdef0123';
const path = '/media/catalog/product/s/i/signed.jpg';
const query = 'width=64&height=48&fit=cover';
const ttlMs = 60_000;

let s3: S3Client;
let secrets: SecretsManagerClient;
let bucket: string;
let secretArn: string;
const { settings } = loadImageServeConfig({ MEDIA_BUCKET: 'm2-placeholder' });

beforeAll(async () => {
  embeddedEnv();
  s3 = embeddedS3();
  secrets = new SecretsManagerClient({});
  bucket = await freshBucket(s3);
  const body = await sharp({ create: { width: 128, height: 96, channels: 3, background: '#36c' } })
    .jpeg()
    .toBuffer();
  await putObject(s3, bucket, 'catalog/product/s/i/signed.jpg', body);
  const created = await secrets.send(
    new CreateSecretCommand({ Name: `${bucket}/image-signing`, SecretString: current }),
  );
  secretArn = created.ARN ?? '';
});
afterAll(async () => {
  await secrets.send(new DeleteSecretCommand({ SecretId: secretArn, ForceDeleteWithoutRecovery: true }));
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
  secrets.destroy();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const signedWith = (key: string) =>
  signatureFor(key, parseImageUrl(path, query, settings.rules).signedMessage);

/** The production handler over moto, the source reading `secretId` with a clock the test moves. */
function shop(secretId: string) {
  let clock = 1_000_000;
  const { out, telemetry } = capturedTelemetry();
  const handler = createImageServeHandler({
    settings,
    store: new S3ServedObjectStore(s3, bucket),
    telemetry,
    signingKeys: createSecretsManagerSigningKeySource({ secretId, ttlMs, client: secrets, now: () => clock }),
  });
  const get = async (signature?: string) =>
    (await handler(
      {
        version: '2.0',
        rawPath: path,
        rawQueryString: signature === undefined ? query : `${query}&s=${signature}`,
        headers: { accept: 'image/jpeg' },
        requestContext: { http: { method: 'GET' } },
      },
      lambdaContext('imageServe', 1536, 20_000),
    )) as Exclude<LambdaFunctionURLResult, string>;
  return { out, get, advance: (ms: number) => (clock += ms) };
}

describe('imageServe signing keys from Secrets Manager', () => {
  it('serves a URL signed with the current key and refuses unsigned and other keys', async () => {
    const { get } = shop(secretArn);
    expect((await get(signedWith(current))).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(403);
    expect((await get(signedWith(next))).statusCode).toBe(403);
  });

  it('accepts current and next after a rotation once the TTL passed, without a restart', async () => {
    // Prepare
    const { get, advance } = shop(secretArn);
    expect((await get(signedWith(next))).statusCode).toBe(403);

    // Act: the operator's first rotation step (README "Signed URLs"), a new version of the secret
    await secrets.send(
      new PutSecretValueCommand({ SecretId: secretArn, SecretString: `${current},${next}` }),
    );

    // Assess: the read keys are reused until the TTL, then both verify
    expect((await get(signedWith(next))).statusCode).toBe(403);
    advance(ttlMs);
    expect((await get(signedWith(next))).statusCode).toBe(200);
    expect((await get(signedWith(current))).statusCode).toBe(200);

    // Act: the last step retires the old key
    await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: next }));
    advance(ttlMs);

    // Assess
    expect((await get(signedWith(current))).statusCode).toBe(403);
    expect((await get(signedWith(next))).statusCode).toBe(200);
  });

  it('fails closed when the secret is missing: a 500 no-store for every request, never an unsigned image', async () => {
    // Prepare
    const missing = secretArn.replace(/image-signing-\w+$/, 'gone-AbCdEf');
    const { out, get } = shop(missing);

    // Act
    const responses = [await get(), await get(signedWith(current))];

    // Assess
    expect(responses.map((r) => [r.statusCode, r.headers?.['cache-control']])).toEqual([
      [500, 'no-store'],
      [500, 'no-store'],
    ]);
    expect(responses.map((r) => r.headers?.['content-type'])).not.toContain('image/jpeg');
    expect(out.logRecords()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'signing keys unavailable',
        error: expect.stringMatching(/ResourceNotFoundException.*gone-AbCdEf/),
      }),
    );
  });

  it('fails closed on a malformed secret and never logs its value', async () => {
    // Prepare: three keys, one too short
    const short = 'short-but-secret';
    const { ARN } = await secrets.send(
      new CreateSecretCommand({ Name: `${bucket}/malformed`, SecretString: `${current},${next},${short}` }),
    );
    const { out, get } = shop(ARN ?? '');

    // Act
    const response = await get(signedWith(current));

    // Assess
    expect(response.statusCode).toBe(500);
    expect(out.logRecords()).toContainEqual(
      expect.objectContaining({ error: expect.stringContaining('at most 2 (current,next)') }),
    );
    const logged = out.lines.join('\n');
    for (const value of [current, next, short]) expect(logged).not.toContain(value);
    await secrets.send(new DeleteSecretCommand({ SecretId: ARN, ForceDeleteWithoutRecovery: true }));
  });
});
