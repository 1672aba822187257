import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { KubernetesError } from './errors.ts';

/** Prefix of the bearer tokens EKS accepts (`aws eks get-token`, aws-iam-authenticator). */
export const eksTokenPrefix = 'k8s-aws-v1.';
/** Signed header that binds a token to one cluster name. */
export const clusterIdHeader = 'x-k8s-aws-id';
/** The presigned URL's own X-Amz-Expires, as aws-iam-authenticator and aws-cli sign it. */
const presignExpiresSeconds = 60;
/**
 * How long EKS accepts a token after its X-Amz-Date. The authenticator ignores X-Amz-Expires
 * and allows 15 minutes; clients (aws-cli, client-go's exec cache) reuse a token for 14.
 */
export const tokenLifetimeMs = 15 * 60_000;

/** What a token is made from. */
export interface EksTokenInput {
  readonly clusterName: string;
  readonly region: string;
  /** STS endpoint the URL is presigned for, e.g. `https://sts.eu-west-1.amazonaws.com`. */
  readonly stsEndpoint: string;
  readonly credentials: AwsCredentialIdentity;
  readonly now: Date;
}

/** A bearer token and when EKS stops accepting it. */
export interface EksToken {
  readonly token: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** The regional STS endpoint EKS expects tokens to be presigned for. */
export const regionalStsEndpoint = (region: string): string => `https://sts.${region}.amazonaws.com`;

const rfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Builds an EKS bearer token: a SigV4-presigned STS GetCallerIdentity URL whose signed headers
 * include `x-k8s-aws-id: <cluster>`, base64url-encoded without padding behind `k8s-aws-v1.`.
 * Same format as `aws eks get-token`.
 *
 * @example
 * const { token } = await createEksToken({ clusterName: 'shop', region: 'eu-west-1',
 *   stsEndpoint: regionalStsEndpoint('eu-west-1'), credentials, now: new Date() });
 */
export async function createEksToken(input: EksTokenInput): Promise<EksToken> {
  const endpoint = new URL(input.stsEndpoint);
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service: 'sts',
    sha256: Sha256,
    uriEscapePath: true,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port === '' ? undefined : Number(endpoint.port),
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: endpoint.host, [clusterIdHeader]: input.clusterName },
  });
  const signed = await signer.presign(request, {
    expiresIn: presignExpiresSeconds,
    signingDate: input.now,
  });
  const query = Object.entries(signed.query ?? {})
    .flatMap(([key, value]) => (Array.isArray(value) ? value.map((v) => [key, v]) : [[key, value ?? '']]))
    .map(([key, value]) => `${rfc3986(String(key))}=${rfc3986(String(value))}`)
    .join('&');
  const url = `${endpoint.protocol}//${endpoint.host}/?${query}`;
  return {
    token: eksTokenPrefix + Buffer.from(url, 'utf8').toString('base64url'),
    issuedAt: input.now,
    expiresAt: new Date(input.now.getTime() + tokenLifetimeMs),
  };
}

/** Why a string is not a well-formed EKS token. */
export class MalformedEksTokenError extends KubernetesError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedEksTokenError';
  }
}

/** The presigned URL inside a token, with the SigV4 query fields the verifier checks. */
export interface DecodedEksToken {
  readonly url: URL;
  readonly signedHeaders: readonly string[];
  readonly signedAt: Date;
  readonly expiresSeconds: number;
  readonly credential: string;
}

const amzDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses SigV4's basic ISO-8601 timestamp (`20240101T000000Z`). */
export function parseAmzDate(value: string): Date | undefined {
  const m = amzDate.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Decodes a `k8s-aws-v1.` token back into its presigned URL and checks its shape: a GET of
 * STS GetCallerIdentity with SigV4 query fields. Does not check the endpoint, the time or the signature.
 */
export function decodeEksToken(token: string): DecodedEksToken {
  if (!token.startsWith(eksTokenPrefix))
    throw new MalformedEksTokenError(`token lacks the ${eksTokenPrefix} prefix`);
  const encoded = token.slice(eksTokenPrefix.length);
  if (encoded.length === 0 || encoded.length > 8192 || !/^[A-Za-z0-9_-]+={0,2}$/.test(encoded)) {
    throw new MalformedEksTokenError('token payload is not base64url');
  }
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch (error) {
    throw new MalformedEksTokenError('token payload is not a URL', { cause: error });
  }
  const param = (name: string): string => {
    const matches = [...url.searchParams.entries()].filter(([k]) => k.toLowerCase() === name.toLowerCase());
    const [first] = matches;
    if (matches.length !== 1 || first === undefined) {
      throw new MalformedEksTokenError(`token URL must carry exactly one ${name}`);
    }
    return first[1];
  };
  if (url.pathname !== '/') throw new MalformedEksTokenError(`unexpected path ${url.pathname}`);
  if (param('Action') !== 'GetCallerIdentity')
    throw new MalformedEksTokenError('token is not a GetCallerIdentity call');
  if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
    throw new MalformedEksTokenError('unsupported signing algorithm');
  const signedAt = parseAmzDate(param('X-Amz-Date'));
  if (signedAt === undefined) throw new MalformedEksTokenError('X-Amz-Date is malformed');
  const expiresSeconds = Number(param('X-Amz-Expires'));
  if (!Number.isInteger(expiresSeconds) || expiresSeconds <= 0) {
    throw new MalformedEksTokenError('X-Amz-Expires is malformed');
  }
  param('X-Amz-Signature');
  return {
    url,
    signedHeaders: param('X-Amz-SignedHeaders')
      .split(';')
      .map((h) => h.toLowerCase()),
    signedAt,
    expiresSeconds,
    credential: param('X-Amz-Credential'),
  };
}
