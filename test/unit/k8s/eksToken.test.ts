import { describe, expect, it } from 'vitest';
import {
  createEksToken,
  decodeEksToken,
  eksTokenPrefix,
  MalformedEksTokenError,
  parseAmzDate,
  regionalStsEndpoint,
} from '../../../lib/k8s/eksToken.ts';

// Expected URLs were produced by botocore (the signer behind `aws eks get-token`) for the same
// inputs, with its clock patched: an independent implementation of the same presign.
const botocoreCases = [
  {
    title: 'the regional STS endpoint',
    input: {
      clusterName: 'm2-local',
      region: 'us-east-1',
      stsEndpoint: regionalStsEndpoint('us-east-1'),
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
      now: new Date('2026-01-02T03:04:05Z'),
    },
    url: 'https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=69ad414d00454ace34b67ca7108f6a57c3d07d94e3bfe665de5a7d61ab94af7a',
  },
  {
    title: 'a local endpoint with a port (moto)',
    input: {
      clusterName: 'm2-local',
      region: 'us-east-1',
      stsEndpoint: 'http://127.0.0.1:4566',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
      now: new Date('2026-01-02T03:04:05Z'),
    },
    url: 'http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=e3f43667a8267ec3dcc70568bc06517ca726e46fb791786eae14c38a5ae7d0d3',
  },
  {
    title: 'temporary credentials with a session token',
    input: {
      clusterName: 'shop-prod',
      region: 'eu-west-1',
      stsEndpoint: regionalStsEndpoint('eu-west-1'),
      credentials: {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        sessionToken: 'FQoGZXIvYXdz+EXAMPLE/token==',
      },
      now: new Date('2026-11-28T05:00:00Z'),
    },
    url: 'https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20261128%2Feu-west-1%2Fsts%2Faws4_request&X-Amz-Date=20261128T050000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=FQoGZXIvYXdz%2BEXAMPLE%2Ftoken%3D%3D&X-Amz-Signature=d4496594df48926df6057de58567e5628214ea1ed612f100dd8742e48f1dfe19',
  },
];

const params = (url: string) => Object.fromEntries(new URL(url).searchParams.entries());

describe('createEksToken', () => {
  it.each(botocoreCases)('signs the same URL as aws-cli for $title', async ({ input, url }) => {
    // Act
    const { token } = await createEksToken(input);

    // Assess
    const decoded = Buffer.from(token.slice(eksTokenPrefix.length), 'base64url').toString('utf8');
    expect(new URL(decoded).origin).toBe(new URL(url).origin);
    expect(params(decoded)).toEqual(params(url));
  });

  it('produces a deterministic token for a fixed clock and fixed credentials', async () => {
    // Prepare
    const [first] = botocoreCases;
    if (first === undefined) throw new Error('no case');

    // Act
    const a = await createEksToken(first.input);
    const b = await createEksToken(first.input);

    // Assess
    expect(a.token).toBe(b.token);
    expect(a.token).toBe(
      'k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMjYwMTAyJTJGdXMtZWFzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjAxMDJUMDMwNDA1WiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9NjlhZDQxNGQwMDQ1NGFjZTM0YjY3Y2E3MTA4ZjZhNTdjM2QwN2Q5NGUzYmZlNjY1ZGU1YTdkNjFhYjk0YWY3YQ',
    );
  });

  it('encodes base64url without padding and reports a 15-minute life', async () => {
    // Prepare
    const [first] = botocoreCases;
    if (first === undefined) throw new Error('no case');

    // Act
    const token = await createEksToken(first.input);

    // Assess
    expect(token.token.slice(eksTokenPrefix.length)).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBe(15 * 60_000);
  });
});

describe('decodeEksToken', () => {
  it('reads back the signed headers, date and expiry of a token', async () => {
    // Prepare
    const [first] = botocoreCases;
    if (first === undefined) throw new Error('no case');
    const { token } = await createEksToken(first.input);

    // Act
    const decoded = decodeEksToken(token);

    // Assess
    expect(decoded.signedHeaders).toEqual(['host', 'x-k8s-aws-id']);
    expect(decoded.signedAt.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(decoded.expiresSeconds).toBe(60);
    expect(decoded.url.host).toBe('sts.us-east-1.amazonaws.com');
  });

  const encode = (url: string) => eksTokenPrefix + Buffer.from(url).toString('base64url');
  const good =
    'https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20260102%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=ab';

  it.each([
    ['a token without the prefix', 'k8s-aws-v2.abc'],
    ['an empty payload', eksTokenPrefix],
    ['a payload that is not base64url', `${eksTokenPrefix}not base64!`],
    ['a payload that is not a URL', encode('not a url')],
    ['another STS action', encode(good.replace('GetCallerIdentity', 'AssumeRole'))],
    ['a path other than /', encode(good.replace('.com/?', '.com/x?'))],
    ['a duplicated Action', encode(`${good}&Action=GetCallerIdentity`)],
    ['a malformed X-Amz-Date', encode(good.replace('20260102T030405Z', '2026-01-02'))],
    ['a missing X-Amz-Expires', encode(good.replace('&X-Amz-Expires=60', ''))],
    ['a missing signature', encode(good.replace('&X-Amz-Signature=ab', ''))],
  ])('rejects %s', (_title, token) => {
    expect(() => decodeEksToken(token)).toThrow(MalformedEksTokenError);
  });
});

describe('parseAmzDate', () => {
  it.each([
    ['20260102T030405Z', '2026-01-02T03:04:05.000Z'],
    ['20261231T235959Z', '2026-12-31T23:59:59.000Z'],
    ['2026-01-02T03:04:05Z', undefined],
    ['20261332T000000Z', undefined],
  ])('parses %s', (input, expected) => {
    expect(parseAmzDate(input)?.toISOString()).toBe(expected);
  });
});
