import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { messageOf } from '../../lib/common/messageOf.ts';
import {
  clusterIdHeader,
  decodeEksToken,
  MalformedEksTokenError,
  tokenLifetimeMs,
} from '../../lib/k8s/eksToken.ts';

/** One EKS access entry: an IAM principal and the Kubernetes identity it maps to. */
export interface AccessEntry {
  readonly principalArn: string;
  readonly username: string;
  readonly groups: readonly string[];
}

const accessEntriesSchema = z.object({
  accessEntries: z.array(
    z.strictObject({
      principalArn: z.string().regex(/^arn:aws:iam::\d{12}:(role|user)\/.+$/),
      username: z.string().min(1),
      groups: z.array(z.string().min(1)),
    }),
  ),
});

/** Reads and validates an access-entries file (see scripts/local/access-entries.json). */
export function loadAccessEntries(file: string): readonly AccessEntry[] {
  return accessEntriesSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).accessEntries;
}

/**
 * The IAM principal an STS caller ARN stands for, as EKS resolves it: an assumed-role session
 * `arn:aws:sts::<acct>:assumed-role/<role>/<session>` becomes `arn:aws:iam::<acct>:role/<role>`;
 * IAM users are kept as they are.
 */
export function canonicalPrincipalArn(callerArn: string): string | undefined {
  const assumed = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(callerArn);
  if (assumed !== null) return `arn:aws:iam::${assumed[1]}:role/${assumed[2]}`;
  // moto answers GetCallerIdentity for IAM users with an sts-partition ARN; AWS uses iam.
  const motoUser = /^arn:aws:sts::(\d{12}):user\/(.+)$/.exec(callerArn);
  if (motoUser !== null) return `arn:aws:iam::${motoUser[1]}:user/${motoUser[2]}`;
  if (/^arn:aws:iam::\d{12}:(user|role)\/.+$/.test(callerArn)) return callerArn;
  return undefined;
}

/** The Kubernetes user a token stands for, in TokenReview's `status.user` shape. */
export interface ReviewedUser {
  readonly username: string;
  readonly uid: string;
  readonly groups: string[];
  readonly extra: Record<string, string[]>;
}

export type TokenReviewOutcome =
  | { readonly authenticated: true; readonly user: ReviewedUser }
  | { readonly authenticated: false; readonly error: string };

/** What the STS call returned for a token. */
export interface CallerIdentity {
  readonly arn: string;
  readonly userId: string;
  readonly account: string;
}

export interface TokenReviewSettings {
  readonly clusterName: string;
  /** Origins (`scheme://host[:port]`) a token's URL may target; anything else is refused. */
  readonly allowedStsOrigins: readonly string[];
  readonly accessEntries: readonly AccessEntry[];
  readonly now: () => Date;
  /** Performs the presigned GetCallerIdentity with the cluster-id header. */
  readonly callerIdentity: (url: URL, clusterName: string) => Promise<CallerIdentity>;
  /** Allowed clock skew for tokens dated in the future. */
  readonly skewMs?: number;
}

const refuse = (error: string): TokenReviewOutcome => ({ authenticated: false, error });

/**
 * Reviews a bearer token the way EKS does: decode the presigned STS URL, check endpoint,
 * signed cluster-id header and age, call STS, and map the caller's principal through the access entries.
 */
export async function reviewEksToken(
  token: string,
  settings: TokenReviewSettings,
): Promise<TokenReviewOutcome> {
  let decoded: ReturnType<typeof decodeEksToken>;
  try {
    decoded = decodeEksToken(token);
  } catch (error) {
    if (error instanceof MalformedEksTokenError) return refuse(`malformed token: ${error.message}`);
    throw error;
  }
  if (!settings.allowedStsOrigins.includes(decoded.url.origin)) {
    return refuse(`token is presigned for ${decoded.url.origin}, not for an allowed STS endpoint`);
  }
  if (!decoded.signedHeaders.includes(clusterIdHeader)) {
    return refuse(`${clusterIdHeader} is not among the signed headers`);
  }
  const now = settings.now().getTime();
  const signedAt = decoded.signedAt.getTime();
  if (signedAt - now > (settings.skewMs ?? 60_000)) return refuse('token is dated in the future');
  if (now > signedAt + tokenLifetimeMs) return refuse('token expired');

  let identity: CallerIdentity;
  try {
    identity = await settings.callerIdentity(decoded.url, settings.clusterName);
  } catch (error) {
    return refuse(`sts GetCallerIdentity failed: ${messageOf(error)}`);
  }
  const principalArn = canonicalPrincipalArn(identity.arn);
  if (principalArn === undefined) return refuse(`unsupported caller ARN ${identity.arn}`);
  const entry = settings.accessEntries.find((e) => e.principalArn === principalArn);
  if (entry === undefined) return refuse(`no access entry for ${principalArn}`);
  const sessionName = identity.arn.startsWith('arn:aws:sts::') ? (identity.arn.split('/')[2] ?? '') : '';
  return {
    authenticated: true,
    user: {
      username: entry.username,
      uid: `aws-iam-authenticator:${identity.account}:${identity.userId}`,
      groups: [...entry.groups],
      extra: {
        arn: [identity.arn],
        canonicalArn: [principalArn],
        sessionName: [sessionName],
        accessKeyId: [decoded.credential.split('/')[0] ?? ''],
      },
    },
  };
}

const xmlField = (xml: string, field: string): string | undefined =>
  new RegExp(`<${field}>([^<]*)</${field}>`).exec(xml)?.[1];

/**
 * GetCallerIdentity against moto_server. moto routes a request to a service, and picks the
 * caller, from the `Authorization` header only; a presigned URL carries the same SigV4 fields in
 * its query string, so they are moved into that header here. (Against real STS one would GET the
 * URL unchanged; STS then also verifies the signature, which moto does not.)
 */
export async function motoCallerIdentity(url: URL, clusterName: string): Promise<CallerIdentity> {
  const q = url.searchParams;
  const headers: Record<string, string> = {
    [clusterIdHeader]: clusterName,
    authorization: `AWS4-HMAC-SHA256 Credential=${q.get('X-Amz-Credential') ?? ''}, SignedHeaders=${
      q.get('X-Amz-SignedHeaders') ?? ''
    }, Signature=${q.get('X-Amz-Signature') ?? ''}`,
    'x-amz-date': q.get('X-Amz-Date') ?? '',
  };
  const sessionToken = q.get('X-Amz-Security-Token');
  if (sessionToken !== null) headers['x-amz-security-token'] = sessionToken;
  const target = new URL('/?Action=GetCallerIdentity&Version=2011-06-15', url.origin);
  const body = await getText(target, headers, 5000);
  const arn = xmlField(body.text, 'Arn');
  if (body.status !== 200 || arn === undefined) {
    throw new Error(`STS answered ${body.status}: ${body.text.slice(0, 200)}`);
  }
  return { arn, userId: xmlField(body.text, 'UserId') ?? '', account: xmlField(body.text, 'Account') ?? '' };
}

function getText(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`STS call timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
