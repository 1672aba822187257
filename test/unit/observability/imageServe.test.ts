import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadImageServeConfig } from '../../../lib/config/imageServeConfig.ts';
import { parseImageUrl } from '../../../lib/images/imageUrl.ts';
import { signatureFor } from '../../../lib/images/urlSigning.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { captureOutput, lambdaContext } from './capture.ts';

const names = metricNames.imageServe;
const service = 'm2-eks-pipeline';
const env = { MEDIA_BUCKET: 'shop-media', IMAGE_SIGNING_KEYS: 'k1-0123456789abcdef0123456789abcdef' };
const path = '/catalog/product/m/b/mb01.jpg';
const query = 'width=640&height=800&fit=cover';
const goodSignature = signatureFor(
  env.IMAGE_SIGNING_KEYS,
  parseImageUrl(path, query, loadImageServeConfig(env).settings.rules).signedMessage,
);
const badSignature = 'A'.repeat(goodSignature.length);
const context = lambdaContext('imageServe', 1024, 10_000);

const request = (signature: string) =>
  ({
    rawPath: path,
    rawQueryString: `${query}&s=${signature}`,
    headers: { accept: 'image/webp,*/*' },
    requestContext: { http: { method: 'GET' } },
  }) as unknown as LambdaFunctionURLEvent;

/** Imports the handler fresh (its config and Powertools singletons are read at cold start) and invokes it. */
async function invoke(event: LambdaFunctionURLEvent) {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('POWERTOOLS_DEV', undefined);
  vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
  vi.resetModules();
  const out = captureOutput();
  const s3 = mockClient(S3Client);
  const variant = Buffer.from('RIFF....WEBPVP8 cached variant bytes');
  s3.on(GetObjectCommand).resolves({
    Body: {
      transformToByteArray: async () => new Uint8Array(variant),
    } as unknown as GetObjectCommandOutput['Body'],
    ContentLength: variant.length,
    ContentType: 'image/webp',
    ETag: '"v1"',
  });
  const { handler } = await import('../../../functions/imageServe.ts');
  const response = (await handler(event, context)) as LambdaFunctionURLResult & { statusCode: number };
  s3.restore();
  return { out, response };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('the imageServe handler', () => {
  it('flushes the hit and its time at the end of the request, logging the path and key but not the signature', async () => {
    const { out, response } = await invoke(request(goodSignature));

    expect(response.statusCode).toBe(200);
    expect(out.metrics().map((m) => [m.name, m.unit, m.dimensions])).toEqual([
      [names.hit, 'Count', { service }],
      [names.time, 'Milliseconds', { service }],
    ]);
    expect(out.logRecords()).toEqual([
      expect.objectContaining({ message: 'image served', path, key: 'catalog/product/m/b/mb01.jpg' }),
    ]);
    expect(out.lines.filter((line) => line.includes(goodSignature))).toEqual([]);
  });

  it('counts a refusal by status and names the path without the query', async () => {
    const { out, response } = await invoke(request(badSignature));

    expect(response.statusCode).toBe(403);
    expect(out.metrics()).toEqual([
      expect.objectContaining({
        name: names.refused,
        unit: 'Count',
        value: 1,
        dimensions: { status: '403', service },
      }),
    ]);
    expect(out.logRecords()).toEqual([
      expect.objectContaining({ message: 'image request refused', path, reason: 'bad-signature' }),
    ]);
    expect(out.lines.filter((line) => line.includes(badSignature))).toEqual([]);
  });
});
