import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeContinuationToken } from '../../../lib/rollout/continuationToken.ts';
import { finishedReleasesAnnotation, handOverAnnotation } from '../../../lib/rollout/releaseHistory.ts';
import { roleArns, roleCluster, type TestCluster } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectlJson } from '../manifests/cluster.ts';
import {
  abandonJob,
  applyShop,
  createJob,
  deleteShop,
  imagesOf,
  initialImage,
  invokeRollout,
  newJobId,
  recordedResult,
  shopNamespace,
} from './rolloutFixture.ts';

let rollout: TestCluster;
const namespaces: string[] = [];

async function newShop(): Promise<string> {
  const namespace = shopNamespace();
  namespaces.push(namespace);
  await applyShop(namespace);
  return namespace;
}

interface Listed {
  items: { kind?: string; metadata: { name: string; resourceVersion: string } }[];
}

/** The resourceVersion of every Deployment, CronJob, Job and Lease of the shop, as the admin reads them. */
function resourceVersions(namespace: string): Record<string, string> {
  const list = kubectlJson<Listed>(['get', 'deployments,cronjobs,jobs,leases', '-n', namespace]);
  return Object.fromEntries(
    list.items.map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]),
  );
}

const leaseAnnotations = (namespace: string): Record<string, string> =>
  kubectlJson<{ metadata: { annotations?: Record<string, string> } }>([
    'get',
    'lease',
    'm2-rollout',
    '-n',
    namespace,
  ]).metadata.annotations ?? {};

beforeAll(async () => {
  embeddedEnv();
  rollout = await roleCluster(roleArns.rollout);
});

afterAll(() => {
  for (const namespace of namespaces) deleteShop(namespace);
});

describe('rollout safety on the embedded stack, as m2:rollout', () => {
  it('refuses tampered, foreign and replayed continuations with a failure report, changing nothing in the cluster', async () => {
    // Prepare: a release hands over after preflight (recorded images, Lease held) and again
    // from its continuation; the first token is now an older one.
    const namespace = await newShop();
    const params = { namespace, imageTag: '2.4.9', migrate: 'never' };
    const first = newJobId();
    await invokeRollout(rollout, { id: first, params }, { remainingMs: () => 59_000 });
    const token1 = (await recordedResult(first))?.body.continuationToken ?? '';
    const second = newJobId();
    await invokeRollout(rollout, { id: second, params, continuationToken: token1 }, { remainingMs: () => 0 });
    const token2 = (await recordedResult(second))?.body.continuationToken ?? '';
    expect(decodeContinuationToken(token2)).toMatchObject({ release: first });
    expect(leaseAnnotations(namespace)[handOverAnnotation]).toBe(`${first} ${second}`);
    const before = resourceVersions(namespace);
    const tampered = `${token2.slice(0, 30)}${token2[30] === 'A' ? 'B' : 'A'}${token2.slice(31)}`;
    const cases = [
      { name: 'tampered', params, token: tampered, refusal: /\(tampered\)/ },
      {
        name: 'another image',
        params: { ...params, imageTag: '2.5.0' },
        token: token2,
        refusal: /\(foreign\)/,
      },
      { name: 'replayed', params, token: token1, refusal: /\(replayed\).*last handed over in job/ },
    ];

    // Act
    const outcomes = [];
    for (const c of cases) {
      const jobId = newJobId();
      const result = await invokeRollout(rollout, {
        id: jobId,
        params: c.params,
        continuationToken: c.token,
      });
      outcomes.push({ name: c.name, outcome: result.outcome, recorded: await recordedResult(jobId) });
    }
    // A job of another pipeline handed the genuine token.
    const foreign = newJobId();
    await createJob({
      jobId: foreign,
      pipelineName: 'another-pipeline',
      userParameters: JSON.stringify(params),
      continuationToken: token2,
    });
    const foreignResult = await invokeRollout(rollout, {
      id: foreign,
      params,
      continuationToken: token2,
      created: false,
    });

    // Assess
    for (const [i, c] of cases.entries()) {
      expect(outcomes[i]?.outcome, c.name).toBe('refused');
      expect(outcomes[i]?.recorded?.operation, c.name).toBe('PutJobFailureResult');
      expect(outcomes[i]?.recorded?.body.failureDetails?.message, c.name).toMatch(c.refusal);
      expect(outcomes[i]?.recorded?.body.failureDetails?.message, c.name).toMatch(/nothing was changed/);
    }
    expect(foreignResult.outcome).toBe('refused');
    expect((await recordedResult(foreign))?.body.failureDetails?.message).toMatch(
      /\(foreign\).*another-pipeline/,
    );
    expect(resourceVersions(namespace)).toEqual(before);
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([initialImage, initialImage]);
  });

  it('releases the Lease and records the release as abandoned when the job was stopped and abandoned', async () => {
    // Prepare: the execution is stopped while the first invocation runs (here: before it replies).
    const namespace = await newShop();
    const jobId = newJobId();
    const params = { namespace, imageTag: '2.4.9', migrate: 'never' };
    await createJob({ jobId, userParameters: JSON.stringify(params) });
    await abandonJob(jobId);

    // Act
    const result = await invokeRollout(
      rollout,
      { id: jobId, params, created: false },
      { remainingMs: () => 59_000 },
    );

    // Assess
    expect(result.outcome).toBe('abandoned');
    const lease = kubectlJson<{ spec: { holderIdentity?: string } }>([
      'get',
      'lease',
      'm2-rollout',
      '-n',
      namespace,
    ]);
    expect(lease.spec.holderIdentity).toBeUndefined();
    expect(JSON.parse(leaseAnnotations(namespace)[finishedReleasesAnnotation] ?? '[]')).toEqual([
      [jobId, 'abandoned'],
    ]);
  });
});
