import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEksToken } from '../../../lib/k8s/eksToken.ts';
import { UnauthorizedError } from '../../../lib/k8s/errors.ts';
import {
  bearerKubeConfig,
  eksSettings,
  roleArns,
  roleCluster,
  unmappedCluster,
  whoAmI,
} from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';

const run = promisify(execFile);

async function assumeRole(roleArn: string) {
  const sts = new STSClient({});
  try {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'integration' }),
    );
    if (Credentials?.AccessKeyId === undefined || Credentials.SecretAccessKey === undefined) {
      throw new Error('AssumeRole returned no credentials');
    }
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      ...(Credentials.SessionToken === undefined ? {} : { sessionToken: Credentials.SessionToken }),
    };
  } finally {
    sts.destroy();
  }
}

async function whoAmIWithToken(token: string) {
  const api = bearerKubeConfig(token).makeApiClient(AuthenticationV1Api);
  const review = await api.createSelfSubjectReview({
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return review.status?.userInfo?.username;
}

describe('EKS-style authentication against the embedded cluster', () => {
  beforeAll(() => {
    embeddedEnv();
  });

  it.each([
    [roleArns.consumerScaler, 'm2:consumer-scaler', ['m2:consumer-scaler', 'system:authenticated']],
    [roleArns.rollout, 'm2:rollout', ['m2:rollout', 'system:authenticated']],
    [roleArns.readonlyTest, 'm2:readonly-test', ['system:authenticated']],
  ])('authenticates role %s as its access entry %s', async (roleArn, username, groups) => {
    // Prepare
    const cluster = await roleCluster(roleArn);

    // Act
    const identity = await whoAmI(cluster);

    // Assess
    expect(identity).toEqual({ username, groups });
  });

  it('refuses a caller without an access entry (401, UnauthorizedError)', async () => {
    // Prepare: the plain test credentials are moto's IAM user, which no access entry maps.
    const cluster = await unmappedCluster();

    // Act + Assess
    await expect(whoAmI(cluster)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('accepts a token from `aws eks get-token` (aws-cli v1) and kubectl prints the mapped user', async () => {
    // Prepare
    const env = embeddedEnv();
    const credentials = await assumeRole(roleArns.rollout);
    const awsEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken ?? '',
    };

    // Act
    const { stdout } = await run(
      'aws',
      ['eks', 'get-token', '--cluster-name', env.EKS_CLUSTER_NAME ?? 'm2-local'],
      {
        env: awsEnv,
      },
    );
    const token = (JSON.parse(stdout) as { status: { token: string } }).status.token;
    // Exactly the developer's command: admin KUBECONFIG from .local/env, the EKS token on the command line.
    const kubectl = await run(
      'kubectl',
      ['--token', token, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'],
      { env: { ...awsEnv, KUBECONFIG: env.KUBECONFIG } },
    );

    // Assess
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(kubectl.stdout).toBe('m2:rollout');
    expect(await whoAmIWithToken(token)).toBe('m2:rollout');
  });

  it('refuses a token older than 15 minutes', async () => {
    // Prepare
    const credentials = await assumeRole(roleArns.rollout);
    const settings = eksSettings();
    const stale = await createEksToken({
      clusterName: settings.clusterName,
      region: settings.region,
      stsEndpoint: settings.stsEndpoint,
      credentials,
      now: new Date(Date.now() - 16 * 60_000),
    });

    // Act
    const username = whoAmIWithToken(stale.token);

    // Assess
    await expect(username).rejects.toMatchObject({ code: 401 });
  });

  it('refreshes the token across its expiry (injected clock)', async () => {
    // Prepare: the provider's clock starts 14 min 50 s in the past, so its first token has 10 s to live;
    // the retry-once-on-401 is switched off to watch the provider alone.
    let offsetMs = 14 * 60_000 + 50_000;
    const cluster = await roleCluster(roleArns.consumerScaler, {
      now: () => new Date(Date.now() - offsetMs),
      calls: { refreshCredentials: undefined },
    });

    // Act 1: the first token is accepted while it is valid.
    const before = await whoAmI(cluster);
    // Act 2: past 15 minutes (and past the apiserver's 10 s cache) the same token is refused;
    // the provider's clock has barely moved, so it still reuses it.
    await new Promise((resolve) => setTimeout(resolve, 11_500));
    const expired = await whoAmI(cluster).catch((error: unknown) => error);
    // Act 3: the clock moves on past the reuse window: the provider mints a new token.
    offsetMs = 0;
    const after = await whoAmI(cluster);

    // Assess
    expect(before.username).toBe('m2:consumer-scaler');
    expect(expired).toBeInstanceOf(UnauthorizedError);
    expect(after.username).toBe('m2:consumer-scaler');
  }, 60_000);

  it('recovers from a refused token by minting a new one and retrying once', async () => {
    // Prepare: a token with 10 s to live, then let it expire.
    const cluster = await roleCluster(roleArns.rollout, {
      now: () => new Date(Date.now() - (14 * 60_000 + 50_000)),
    });
    await whoAmI(cluster);
    await new Promise((resolve) => setTimeout(resolve, 11_500));

    // Act: the stale token is refused (401); the call invalidates it and retries with a fresh one.
    const identity = await whoAmI(cluster);

    // Assess
    expect(identity.username).toBe('m2:rollout');
  }, 60_000);
});
