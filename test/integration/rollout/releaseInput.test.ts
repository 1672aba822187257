import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleArns, roleCluster, type TestCluster } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectlResult } from '../manifests/cluster.ts';
import {
  applyShop,
  deleteShop,
  imagesOf,
  invokeRollout,
  newJobId,
  recordedResult,
  shopNamespace,
  templateOf,
} from './rolloutFixture.ts';

let rollout: TestCluster;
let namespace: string;

beforeAll(async () => {
  embeddedEnv();
  namespace = shopNamespace();
  await applyShop(namespace);
  rollout = await roleCluster(roleArns.rollout);
}, 120_000);

afterAll(() => {
  deleteShop(namespace);
});

/** Whether the shop's Lease exists: a refused or dry-run release must not even create it. */
const leaseExists = (): boolean =>
  kubectlResult(['get', 'lease', 'm2-rollout', '-n', namespace]).status === 0;

describe('bad input and dry runs on the embedded stack, as m2:rollout', () => {
  it('a dry run reports the plan and the patches, and writes nothing', async () => {
    // Prepare
    const before = ['m2-http', 'm2-cron'].map((name, i) =>
      templateOf(namespace, i === 0 ? 'deployment' : 'cronjob', name),
    );
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(rollout, {
      id: jobId,
      params: { namespace, imageTag: '2.4.8', migrate: 'never', dryRun: true },
    });

    // Assess
    expect(result.outcome).toBe('dry-run');
    expect(result.plan?.targets.map((t) => t.target)).toContain(`${namespace}/deployment/m2-http`);
    expect(
      result.plan?.targets.flatMap((t) => t.patch).filter((o) => o.op === 'replace').length,
    ).toBeGreaterThan(0);
    expect((await recordedResult(jobId))?.body.executionDetails?.summary).toMatch(
      /^dry run of .* nothing written/,
    );
    expect(
      ['m2-http', 'm2-cron'].map((name, i) =>
        templateOf(namespace, i === 0 ? 'deployment' : 'cronjob', name),
      ),
    ).toEqual(before);
    expect(leaseExists()).toBe(false);
  });

  it('an image of another repository is a ConfigurationError and nothing changes', async () => {
    // Prepare
    const images = imagesOf(namespace, 'deployment', 'm2-http');
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(rollout, {
      id: jobId,
      params: { namespace, image: 'docker.io/someone/magento:2.4.8', migrate: 'never' },
    });

    // Assess
    expect(result.outcome).toBe('configuration-error');
    expect((await recordedResult(jobId))?.body.failureDetails).toEqual({
      type: 'ConfigurationError',
      message: expect.stringMatching(
        /^UserParameters\.image: docker\.io\/someone\/magento:2\.4\.8 is not of the shop's repository/,
      ),
    });
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual(images);
    expect(leaseExists()).toBe(false);
  });

  it('a namespace that is no shop is a ConfigurationError naming UserParameters.namespace', async () => {
    // Act: no RoleBinding m2-rollout there, so RBAC answers before the apiserver looks for it.
    const result = await invokeRollout(rollout, {
      id: newJobId(),
      params: { namespace: 'kube-system', imageTag: '2.4.8' },
    });

    // Assess
    expect(result.outcome).toBe('configuration-error');
    expect(result.message).toMatch(
      /^UserParameters\.namespace: the rollout may not read kube-system: not a shop/,
    );
  });
});
