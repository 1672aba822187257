import { describe, expect, it } from 'vitest';
import { allImages, invoke, namespace, newImage, newShop, oldImage, untouched as unchanged } from './shop.ts';

describe('runRollout with "dryRun": true', () => {
  it('reports the plan and the exact patches, and writes nothing', async () => {
    // Prepare
    const shop = newShop({ migrationTemplate: true });
    const resourceVersion = shop.cluster
      .objects('deployments', namespace)
      .find((d) => d.metadata?.name === 'm2-http')?.metadata?.resourceVersion;

    // Act
    const result = await invoke(shop, {
      id: 'release-dry',
      params: { namespace, imageTag: '2.4.8', dryRun: true },
    });

    // Assess
    expect(result.outcome).toBe('dry-run');
    expect(result.plan?.migration).toMatch(
      /^job\/m2-migrate-release-dry from cronjob\/m2-migrate, with m2-cron suspended/,
    );
    expect(result.plan?.preview).toEqual(['m2-http-preview']);
    expect(result.plan?.targets.map((t) => t.target)).toEqual([
      'shop-a/deployment/m2-http',
      'shop-a/deployment/m2-consumer-export',
      'shop-a/deployment/m2-consumer-media',
      'shop-a/cronjob/m2-cron',
    ]);
    const web = result.plan?.targets[0];
    expect(web?.from).toEqual([oldImage, oldImage]);
    expect(web?.patch).toEqual(
      expect.arrayContaining([
        { op: 'add', path: '/metadata/resourceVersion', value: resourceVersion },
        { op: 'test', path: '/spec/template/spec/containers/0/image', value: oldImage },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: newImage },
        {
          op: 'add',
          path: '/metadata/annotations/rollout.m2-eks-pipeline.io~1release',
          value: 'release-dry',
        },
      ]),
    );
    expect(result.plan?.targets[3]?.patch).toContainEqual({
      op: 'replace',
      path: '/spec/jobTemplate/spec/template/spec/containers/0/image',
      value: newImage,
    });
    expect(shop.results.reports).toEqual([
      expect.objectContaining({
        jobId: 'release-dry',
        operation: 'success',
        report: { summary: expect.stringMatching(/^dry run of release-dry on shop-a, nothing written/) },
      }),
    ]);
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(shop.cluster.objects('jobs', namespace)).toEqual([]);
    expect(shop.cluster.lease(namespace, 'm2-rollout')).toBeUndefined();
    expect(allImages(shop)).toEqual(unchanged);
  });

  it('names no preview and no migration when the shop turns them off or has none', async () => {
    // Prepare
    const shop = newShop({ webAnnotations: { 'm2-eks-pipeline.io/preview': 'false' } });

    // Act
    const result = await invoke(shop, {
      id: 'release-dry-2',
      params: { namespace, imageTag: '2.4.8', dryRun: true },
    });

    // Assess
    expect(result.plan?.preview).toEqual([]);
    expect(result.plan?.migration).toBe('none');
    expect(result.message).toContain('preview: none');
  });

  it('names the cron verification Job, and none with "verifyCron": false', async () => {
    // Act
    const on = await invoke(newShop(), {
      id: 'release-dry-3',
      params: { namespace, imageTag: '2.4.8', dryRun: true },
    });
    const off = await invoke(newShop(), {
      id: 'release-dry-4',
      params: { namespace, imageTag: '2.4.8', dryRun: true, verifyCron: false },
    });

    // Assess
    expect(on.message).toContain(
      'cron verification: job/m2-cron-verify-release-dry-3 from cronjob/m2-cron (one cron:run)',
    );
    expect(off.plan?.cronVerification).toBe('none');
  });

  it('fails with what the preflight would refuse, still writing nothing', async () => {
    // Prepare: a migration may run but Magento's blue/green deployment is off.
    const shop = newShop();
    shop.cluster.addCronJob(namespace, 'm2-migrate', oldImage);

    // Act
    const result = await invoke(shop, {
      id: 'release-dry-3',
      params: { namespace, imageTag: '2.4.8', dryRun: true },
    });

    // Assess
    expect(result.outcome).toBe('dry-run');
    expect(result.plan).toBeUndefined();
    expect(result.message).toMatch(
      /^dry run: the release would fail in preflight: blue\/green deployment is off/,
    );
    expect(shop.results.reports).toEqual([
      expect.objectContaining({ operation: 'failure', kind: 'JobFailed' }),
    ]);
    expect(shop.cluster.lease(namespace, 'm2-rollout')).toBeUndefined();
    expect(allImages(shop)).toEqual(unchanged);
  });

  it('runs for real afterwards when dryRun is removed: the dry run recorded no verdict', async () => {
    // Prepare
    const shop = newShop();
    await invoke(shop, { id: 'release-dry-4', params: { namespace, imageTag: '2.4.8', dryRun: true } });

    // Act
    const result = await invoke(shop, { id: 'release-real-4' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(allImages(shop).web).toEqual([newImage, newImage]);
  });
});
