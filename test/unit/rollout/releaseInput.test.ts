import { describe, expect, it } from 'vitest';
import { defaultRolloutSettings } from '../../../lib/rollout/executor.ts';
import { parseImageRepositories, repositoryAllowed } from '../../../lib/rollout/releaseInput.ts';
import { allImages, invoke, namespace, newShop, repository, untouched as unchanged } from './shop.ts';

describe('a release with a wrong namespace or image is a ConfigurationError, and nothing is touched', () => {
  it.each([
    [
      'a namespace with no shop',
      { namespace: 'shop-typo', imageTag: '2.4.8' },
      'UserParameters.namespace: shop-typo has no deployment/m2-http: not a shop',
    ],
    [
      'an image of another repository',
      { namespace, image: 'docker.io/attacker/magento:2.4.8', migrate: 'never' },
      `UserParameters.image: docker.io/attacker/magento:2.4.8 is not of the shop's repository ${repository}`,
    ],
    [
      "an image whose repository only starts like the shop's",
      { namespace, image: `${repository}-evil:2.4.8`, migrate: 'never' },
      `UserParameters.image: ${repository}-evil:2.4.8 is not of the shop's repository`,
    ],
  ])('%s', async (_case, params, message) => {
    // Prepare
    const shop = newShop();

    // Act
    const result = await invoke(shop, { id: 'release-bad', params });

    // Assess
    expect(result.outcome).toBe('configuration-error');
    expect(shop.results.reports).toEqual([
      expect.objectContaining({
        jobId: 'release-bad',
        operation: 'failure',
        kind: 'ConfigurationError',
        message: expect.stringContaining(message),
      }),
    ]);
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(shop.cluster.lease(namespace, 'm2-rollout')).toBeUndefined();
    expect(allImages(shop)).toEqual(unchanged);
  });

  it('names the namespace when the rollout may not read it (403: no RoleBinding there)', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.fail({ verb: 'get', resource: 'deployments', status: 403, times: 1 });

    // Act
    const result = await invoke(shop, { id: 'release-403' });

    // Assess
    expect(result.outcome).toBe('configuration-error');
    expect(result.message).toMatch(/^UserParameters\.namespace: the rollout may not read shop-a: not a shop/);
    expect(shop.cluster.lease(namespace, 'm2-rollout')).toBeUndefined();
  });

  it('refuses oversized UserParameters before parsing them', async () => {
    // Prepare: valid JSON, but longer than CodePipeline lets a pipeline carry.
    const shop = newShop();
    const params = {
      namespace,
      imageTag: '2.4.8',
      targets: {
        web: ['m2-http'],
        cron: Array.from({ length: 10 }, (_, i) => `${'c'.repeat(60)}${i}`),
        consumers: Array.from({ length: 8 }, (_, i) => `${'q'.repeat(60)}${i}`),
      },
    };

    // Act
    const result = await invoke(shop, { id: 'release-big', params });

    // Assess
    expect(result.outcome).toBe('configuration-error');
    expect(result.message).toMatch(/^UserParameters: 1\d{3} characters; at most 1000/);
    expect(allImages(shop)).toEqual(unchanged);
  });

  it('refuses an image tag of a repository the allow-list does not name, and rolls one it names', async () => {
    // Prepare
    const refusing = {
      ...defaultRolloutSettings,
      imageRepositories: parseImageRepositories('123456789012.dkr.ecr.eu-west-1.amazonaws.com/*'),
    };
    const admitting = {
      ...defaultRolloutSettings,
      imageRepositories: parseImageRepositories('other.example/x, registry.example/*'),
    };
    const refused = newShop();
    const admitted = newShop();

    // Act
    const refusal = await invoke(refused, { id: 'release-list' }, undefined, refusing);
    const success = await invoke(admitted, { id: 'release-list' }, undefined, admitting);

    // Assess
    expect(refusal.outcome).toBe('configuration-error');
    expect(refusal.message).toBe(
      `UserParameters.imageTag: repository ${repository} is not in ROLLOUT_IMAGE_REPOSITORIES (123456789012.dkr.ecr.eu-west-1.amazonaws.com/*)`,
    );
    expect(allImages(refused)).toEqual(unchanged);
    expect(success.outcome).toBe('succeeded');
  });
});

describe('the repository allow-list', () => {
  it.each([
    ['registry.example/magento', 'registry.example/magento', true],
    ['registry.example/*', 'registry.example/team/magento', true],
    ['registry.example/*', 'registry.example.evil/magento', false],
    ['registry.example/magento', 'registry.example/magento2', false],
    ['a.example/x, registry.example:5000/*', 'registry.example:5000/magento', true],
  ])('%s admits %s: %s', (list, repo, admitted) => {
    expect(repositoryAllowed(repo, parseImageRepositories(list))).toBe(admitted);
  });

  it('admits every repository when unset or empty', () => {
    expect(parseImageRepositories(undefined)).toBeUndefined();
    expect(parseImageRepositories(' , ')).toBeUndefined();
    expect(repositoryAllowed('anything.example/x', undefined)).toBe(true);
  });

  it.each([
    'registry.example/magento:2.4.8',
    'registry.example/*/magento',
    'Registry.example/x',
    `registry.example/magento@sha256:${'a'.repeat(64)}`,
  ])('refuses the entry %s naming the variable', (entry) => {
    expect(() => parseImageRepositories(entry)).toThrow(
      `ROLLOUT_IMAGE_REPOSITORIES: "${entry}" is not a repository`,
    );
  });
});
