import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decodeContinuationToken } from '../../../lib/rollout/continuationToken.ts';
import { defaultRolloutSettings, type RolloutResult, runRollout } from '../../../lib/rollout/executor.ts';
import { finishedReleasesAnnotation, parseFinishedReleases } from '../../../lib/rollout/releaseHistory.ts';
import { rolloutAnnotations } from '../../../lib/rollout/targets.ts';
import { FakeClock, FakeCluster, FakeJobResults, quietLog } from './fakes.ts';

const namespace = 'shop-a';
const repository = 'registry.example/magento';
const oldImage = `${repository}:2.4.7`;
const newImage = `${repository}:2.4.8`;
const consumers = ['m2-consumer-export', 'm2-consumer-media'];

interface Shop {
  readonly clock: FakeClock;
  readonly cluster: FakeCluster;
  readonly results: FakeJobResults;
}

function newShop(
  options: { neverReady?: string[]; latencyMs?: number; migrationTemplate?: boolean } = {},
): Shop {
  const clock = new FakeClock();
  const cluster = new FakeCluster(clock, options);
  cluster.addDeployment(namespace, 'm2-http', oldImage);
  for (const name of consumers) {
    cluster.addDeployment(namespace, name, oldImage, { 'app.kubernetes.io/component': 'consumer' });
  }
  cluster.addCronJob(namespace, 'm2-cron', oldImage);
  if (options.migrationTemplate === true) {
    cluster.addCronJob(namespace, 'm2-migrate', oldImage, { 'm2-eks-pipeline.io/blue-green-enabled': '1' });
  }
  return { clock, cluster, results: new FakeJobResults() };
}

function invoke(
  shop: Shop,
  job: { id: string; params?: object; continuationToken?: string },
  remainingMs: () => number = () => 15 * 60_000,
): Promise<RolloutResult> {
  return runRollout(
    {
      id: job.id,
      userParameters: JSON.stringify(job.params ?? { namespace, imageTag: '2.4.8', migrate: 'never' }),
      continuationToken: job.continuationToken,
    },
    {
      cluster: shop.cluster.client,
      results: shop.results,
      log: quietLog,
      now: shop.clock.now,
      sleep: shop.clock.sleep,
      remainingMs,
    },
    defaultRolloutSettings,
  );
}

const finishedOn = (shop: Shop) =>
  parseFinishedReleases(
    shop.cluster.lease(namespace, 'm2-rollout').metadata?.annotations?.[finishedReleasesAnnotation],
  );

const allImages = (shop: Shop) => ({
  web: shop.cluster.images('deployments', namespace, 'm2-http'),
  consumers: consumers.map((name) => shop.cluster.images('deployments', namespace, name)),
  cron: shop.cluster.images('cronjobs', namespace, 'm2-cron'),
});

describe('runRollout with fake cluster, CodePipeline and clock', () => {
  it('patches web, then consumers, then cron, reports success and releases the Lease', async () => {
    // Prepare
    const shop = newShop();

    // Act
    const result = await invoke(shop, { id: 'release-1' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(shop.cluster.templateWrites.map((w) => w.target)).toEqual([
      'deployments/m2-http',
      ...consumers.map((name) => `deployments/${name}`),
      'cronjobs/m2-cron',
    ]);
    expect(allImages(shop)).toEqual({
      web: [newImage, newImage],
      consumers: [
        [newImage, newImage],
        [newImage, newImage],
      ],
      cron: [newImage],
    });
    expect(shop.results.reports).toEqual([
      expect.objectContaining({
        jobId: 'release-1',
        operation: 'success',
        report: expect.objectContaining({
          outputVariables: expect.objectContaining({
            previousImage: oldImage,
            newImage,
            release: 'release-1',
          }),
        }),
      }),
    ]);
    expect(shop.cluster.lease(namespace, 'm2-rollout').spec?.holderIdentity).toBeUndefined();
    expect(finishedOn(shop)).toEqual([['release-1', 'succeeded']]);
  });

  it('rolls back every patched target in reverse order when a consumer never becomes ready', async () => {
    // Prepare
    const shop = newShop({ neverReady: ['m2-consumer-media'] });

    // Act
    const result = await invoke(shop, { id: 'release-2' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(shop.cluster.templateWrites).toEqual([
      { target: 'deployments/m2-http', images: [newImage, newImage] },
      { target: 'deployments/m2-consumer-export', images: [newImage, newImage] },
      { target: 'deployments/m2-consumer-media', images: [newImage, newImage] },
      { target: 'deployments/m2-consumer-media', images: [oldImage, oldImage] },
      { target: 'deployments/m2-consumer-export', images: [oldImage, oldImage] },
      { target: 'deployments/m2-http', images: [oldImage, oldImage] },
    ]);
    expect(allImages(shop)).toEqual({
      web: [oldImage, oldImage],
      consumers: [
        [oldImage, oldImage],
        [oldImage, oldImage],
      ],
      cron: [oldImage],
    });
    const report = shop.results.reports[0];
    expect(report?.operation === 'failure' ? report.message : '').toMatch(
      /shop-a\/deployment\/m2-consumer-media: .*progress deadline.*Rolled back to the recorded templates: shop-a\/deployment\/m2-consumer-media, shop-a\/deployment\/m2-consumer-export, shop-a\/deployment\/m2-http\./,
    );
    expect(shop.cluster.annotations('deployments', namespace, 'm2-http')[rolloutAnnotations.release]).toBe(
      'release-2-rolled-back',
    );
    expect(finishedOn(shop)).toEqual([['release-2', 'failed']]);
  });

  it('hands over with a continuation token when the time budget runs out, and the next invocation completes without patching twice', async () => {
    // Prepare: every API call takes 1 s; the first invocation has 75 s, 60 of them the margin.
    const shop = newShop({ latencyMs: 1000 });
    const start = shop.clock.now();

    // Act
    const first = await invoke(shop, { id: 'release-3' }, () => 75_000 - (shop.clock.now() - start));
    const token =
      shop.results.reports[0]?.operation === 'success'
        ? shop.results.reports[0].report.continuationToken
        : undefined;
    const second = await invoke(shop, { id: 'continuation-of-3', continuationToken: token ?? '' });

    // Assess
    expect(first.outcome).toBe('continued');
    expect(decodeContinuationToken(token ?? '')).toMatchObject({ release: 'release-3' });
    expect(first.state?.phase).not.toBe('success');
    expect(second.outcome).toBe('succeeded');
    expect(shop.results.reports.map((r) => [r.jobId, r.operation])).toEqual([
      ['release-3', 'success'],
      ['continuation-of-3', 'success'],
    ]);
    // Each target's template was written exactly once across both invocations.
    expect(shop.cluster.templateWrites.map((w) => w.target)).toEqual([
      'deployments/m2-http',
      ...consumers.map((name) => `deployments/${name}`),
      'cronjobs/m2-cron',
    ]);
    expect(allImages(shop).cron).toEqual([newImage]);
    expect(shop.cluster.lease(namespace, 'm2-rollout').spec?.holderIdentity).toBeUndefined();
  });

  it('refuses while another release holds the Lease, touching no target, and remembers the refusal', async () => {
    // Prepare
    const shop = newShop();
    const renewTime = new V1MicroTime(shop.clock.now());
    shop.cluster.addLease(namespace, 'm2-rollout', {
      holderIdentity: 'release-other',
      leaseDurationSeconds: 900,
      renewTime,
      acquireTime: renewTime,
    });

    // Act
    const result = await invoke(shop, { id: 'release-4' });
    const redelivered = await invoke(shop, { id: 'release-4' });

    // Assess
    expect(result.outcome).toBe('refused');
    expect(redelivered.outcome).toBe('duplicate');
    expect(redelivered.reported).toBe('already-reported');
    const report = shop.results.reports[0];
    expect(report?.operation === 'failure' ? report.message : '').toMatch(
      /another rollout holds the lease of shop shop-a \(holder release-other\)/,
    );
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(shop.cluster.annotations('deployments', namespace, 'm2-http')).toEqual({});
    expect(shop.cluster.lease(namespace, 'm2-rollout').spec?.holderIdentity).toBe('release-other');
    expect(finishedOn(shop)).toEqual([['release-4', 'failed']]);
  });

  it('touches no target when the migration Job cannot be created', async () => {
    // Prepare: the shop has a migration template; its quota admits no Job.
    const shop = newShop({ migrationTemplate: true });

    // Act
    const result = await invoke(shop, {
      id: 'release-5',
      params: { namespace, imageTag: '2.4.8', migrate: 'always' },
    });

    // Assess
    expect(result.outcome).toBe('failed');
    const report = shop.results.reports[0];
    expect(report?.operation === 'failure' ? report.message : '').toMatch(
      /exceeded quota.*Nothing was changed\./s,
    );
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(allImages(shop).web).toEqual([oldImage, oldImage]);
    expect(finishedOn(shop)).toEqual([['release-5', 'failed']]);
  });

  it('changes nothing for a repeated invocation of an older release after a newer one shipped', async () => {
    // Prepare: release-6 ships 2.4.8, release-7 ships 2.4.9.
    const shop = newShop();
    await invoke(shop, { id: 'release-6' });
    await invoke(shop, { id: 'release-7', params: { namespace, imageTag: '2.4.9', migrate: 'never' } });
    const writes = shop.cluster.templateWrites.length;
    const leaseVersion = shop.cluster.lease(namespace, 'm2-rollout').metadata?.resourceVersion;

    // Act
    const duplicate = await invoke(shop, { id: 'release-6' });

    // Assess
    expect(duplicate.outcome).toBe('duplicate');
    expect(duplicate.reported).toBe('already-reported');
    expect(shop.cluster.templateWrites).toHaveLength(writes);
    expect(allImages(shop).web).toEqual([`${repository}:2.4.9`, `${repository}:2.4.9`]);
    expect(shop.cluster.lease(namespace, 'm2-rollout').metadata?.resourceVersion).toBe(leaseVersion);
  });

  it('re-sends the recorded verdict when the first reply of a finished release was lost', async () => {
    // Prepare: the Lease remembers release-8 as failed; CodePipeline never heard of it.
    const shop = newShop();
    shop.cluster.addLease(
      namespace,
      'm2-rollout',
      { leaseDurationSeconds: 900 },
      { [finishedReleasesAnnotation]: JSON.stringify([['release-8', 'failed']]) },
    );

    // Act
    const result = await invoke(shop, { id: 'release-8' });

    // Assess
    expect(result).toMatchObject({ outcome: 'duplicate', reported: 'reported' });
    expect(shop.results.reports).toEqual([
      expect.objectContaining({ jobId: 'release-8', operation: 'failure', kind: 'JobFailed' }),
    ]);
    expect(shop.cluster.templateWrites).toEqual([]);
  });
});
