import { describe, expect, it } from 'vitest';
import { createEksToken } from '../../../lib/k8s/eksToken.ts';
import {
  type AccessEntry,
  type CallerIdentity,
  canonicalPrincipalArn,
  reviewEksToken,
  type TokenReviewSettings,
} from '../../../scripts/local/token-review.ts';

const accessEntries: AccessEntry[] = [
  {
    principalArn: 'arn:aws:iam::123456789012:role/m2-rollout',
    username: 'm2:rollout',
    groups: ['m2:rollout'],
  },
];
const signedAt = new Date('2026-11-28T05:00:00Z');
const credentials = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' };
const rolloutCaller: CallerIdentity = {
  arn: 'arn:aws:sts::123456789012:assumed-role/m2-rollout/pipeline-42',
  userId: 'AROAEXAMPLE:pipeline-42',
  account: '123456789012',
};

const token = async (overrides: { stsEndpoint?: string; clusterName?: string } = {}) =>
  (
    await createEksToken({
      clusterName: overrides.clusterName ?? 'm2-local',
      region: 'us-east-1',
      stsEndpoint: overrides.stsEndpoint ?? 'http://127.0.0.1:4566',
      credentials,
      now: signedAt,
    })
  ).token;

function settings(overrides: Partial<TokenReviewSettings> = {}): TokenReviewSettings {
  return {
    clusterName: 'm2-local',
    allowedStsOrigins: ['http://127.0.0.1:4566'],
    accessEntries,
    now: () => new Date(signedAt.getTime() + 60_000),
    callerIdentity: async () => rolloutCaller,
    ...overrides,
  };
}

describe('reviewEksToken', () => {
  it('maps an assumed-role caller to its access entry', async () => {
    // Prepare
    const calls: { url: string; clusterName: string }[] = [];

    // Act
    const outcome = await reviewEksToken(
      await token(),
      settings({
        callerIdentity: async (url, clusterName) => {
          calls.push({ url: url.origin, clusterName });
          return rolloutCaller;
        },
      }),
    );

    // Assess
    expect(outcome).toEqual({
      authenticated: true,
      user: {
        username: 'm2:rollout',
        uid: 'aws-iam-authenticator:123456789012:AROAEXAMPLE:pipeline-42',
        groups: ['m2:rollout'],
        extra: {
          arn: [rolloutCaller.arn],
          canonicalArn: ['arn:aws:iam::123456789012:role/m2-rollout'],
          sessionName: ['pipeline-42'],
          accessKeyId: ['ASIAEXAMPLE'],
        },
      },
    });
    expect(calls).toEqual([{ url: 'http://127.0.0.1:4566', clusterName: 'm2-local' }]);
  });

  it.each<[string, () => Promise<string>, Partial<TokenReviewSettings>, RegExp]>([
    [
      'a token for another STS endpoint',
      () => token({ stsEndpoint: 'https://evil.example.com' }),
      {},
      /not for an allowed STS endpoint/,
    ],
    [
      'an expired token (older than 15 minutes)',
      () => token(),
      { now: () => new Date(signedAt.getTime() + 15 * 60_000 + 1) },
      /expired/,
    ],
    [
      'a token dated in the future',
      () => token(),
      { now: () => new Date(signedAt.getTime() - 5 * 60_000) },
      /future/,
    ],
    [
      'a caller without an access entry',
      () => token(),
      { accessEntries: [] },
      /no access entry for arn:aws:iam::123456789012:role\/m2-rollout/,
    ],
    [
      'a failing STS call',
      () => token(),
      { callerIdentity: async () => Promise.reject(new Error('403 InvalidClientTokenId')) },
      /GetCallerIdentity failed/,
    ],
    ['a malformed token', async () => 'k8s-aws-v1.%%%', {}, /malformed token/],
  ])('refuses %s', async (_title, makeToken, overrides, error) => {
    // Act
    const outcome = await reviewEksToken(await makeToken(), settings(overrides));

    // Assess
    expect(outcome.authenticated).toBe(false);
    if (!outcome.authenticated) expect(outcome.error).toMatch(error);
  });

  it('refuses a token whose signed headers lack x-k8s-aws-id', async () => {
    // Prepare
    const url = new URL(Buffer.from((await token()).slice('k8s-aws-v1.'.length), 'base64url').toString());
    url.searchParams.set('X-Amz-SignedHeaders', 'host');
    const unsigned = `k8s-aws-v1.${Buffer.from(url.toString()).toString('base64url')}`;

    // Act
    const outcome = await reviewEksToken(unsigned, settings());

    // Assess
    expect(outcome).toEqual({ authenticated: false, error: 'x-k8s-aws-id is not among the signed headers' });
  });
});

describe('canonicalPrincipalArn', () => {
  it.each([
    [
      'arn:aws:sts::123456789012:assumed-role/m2-rollout/session-1',
      'arn:aws:iam::123456789012:role/m2-rollout',
    ],
    ['arn:aws:iam::123456789012:user/moto', 'arn:aws:iam::123456789012:user/moto'],
    ['arn:aws:sts::123456789012:user/moto', 'arn:aws:iam::123456789012:user/moto'],
    [
      'arn:aws:iam::123456789012:role/m2-consumer-scaler',
      'arn:aws:iam::123456789012:role/m2-consumer-scaler',
    ],
    ['arn:aws:sts::123456789012:federated-user/bob', undefined],
    ['not an arn', undefined],
  ])('maps %s to %s', (caller, principal) => {
    expect(canonicalPrincipalArn(caller)).toBe(principal);
  });
});
