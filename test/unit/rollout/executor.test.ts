import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decodeContinuationToken } from '../../../lib/rollout/continuationToken.ts';
import { finishedReleasesAnnotation } from '../../../lib/rollout/releaseHistory.ts';
import { rolloutAnnotations } from '../../../lib/rollout/targets.ts';
import {
  allImages,
  budget,
  consumers,
  failureOf,
  finishedOn,
  invoke,
  lastToken,
  namespace,
  newImage,
  newShop,
  oldImage,
  podImages,
  repository,
} from './shop.ts';

describe('runRollout on the fake cluster, with a fake CodePipeline and clock', () => {
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
    expect(shop.cluster.lease(namespace, 'm2-rollout')?.spec?.holderIdentity).toBeUndefined();
    expect(finishedOn(shop)).toEqual([['release-1', 'succeeded']]);
  });

  it('rolls back every patched target in reverse order when a consumer never becomes ready', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-consumer-media');

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
    expect(result.failure).toMatchObject({
      kind: 'TargetFailedError',
      target: 'shop-a/deployment/m2-consumer-media',
    });
    expect(failureOf(shop, 'release-2')).toContain('shop-a/deployment/m2-consumer-media');
    expect(podImages(shop, 'm2-consumer-media')).toEqual([oldImage, oldImage]);
    expect(shop.cluster.annotations('deployments', namespace, 'm2-http')[rolloutAnnotations.release]).toBe(
      'release-2-rolled-back',
    );
    expect(finishedOn(shop)).toEqual([['release-2', 'failed']]);
  });

  it('hands over with a continuation token when the time budget runs out, and the next invocation completes without patching twice', async () => {
    // Prepare: every API call takes 1 s; the first invocation has 75 s, 60 of them the margin.
    const shop = newShop({ latencyMs: 1000 });

    // Act
    const first = await invoke(shop, { id: 'release-3' }, budget(shop, 75_000));
    const token = lastToken(shop)?.raw;
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
    expect(shop.cluster.lease(namespace, 'm2-rollout')?.spec?.holderIdentity).toBeUndefined();
    expect(podImages(shop, 'm2-http')).toEqual(Array(6).fill(newImage));
  });

  it('refuses while another release holds the Lease, touching no target, and remembers the refusal', async () => {
    // Prepare
    const shop = newShop();
    const renewTime = new V1MicroTime(shop.cluster.clock.now());
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
    expect(failureOf(shop, 'release-4')).toContain('release-other');
    expect(shop.cluster.templateWrites).toEqual([]);
    const ours = Object.keys(shop.cluster.annotations('deployments', namespace, 'm2-http')).filter((key) =>
      key.startsWith('rollout.m2-eks-pipeline.io/'),
    );
    expect(ours).toEqual([]);
    expect(shop.cluster.lease(namespace, 'm2-rollout')?.spec?.holderIdentity).toBe('release-other');
    expect(finishedOn(shop)).toEqual([['release-4', 'failed']]);
  });

  it('touches no target when the migration Job cannot be created', async () => {
    // Prepare: the shop has a migration template; its quota admits no Job.
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.fail({
      verb: 'create',
      resource: 'jobs',
      status: 403,
      message: `jobs is forbidden: exceeded quota in ${namespace}: count/jobs.batch=0`,
    });

    // Act
    const result = await invoke(shop, {
      id: 'release-5',
      params: { namespace, imageTag: '2.4.8', migrate: 'always' },
    });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(failureOf(shop, 'release-5')).toContain('count/jobs.batch=0');
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
    const leaseVersion = shop.cluster.lease(namespace, 'm2-rollout')?.metadata?.resourceVersion;

    // Act
    const duplicate = await invoke(shop, { id: 'release-6' });

    // Assess
    expect(duplicate.outcome).toBe('duplicate');
    expect(duplicate.reported).toBe('already-reported');
    expect(shop.cluster.templateWrites).toHaveLength(writes);
    expect(allImages(shop).web).toEqual([`${repository}:2.4.9`, `${repository}:2.4.9`]);
    expect(shop.cluster.lease(namespace, 'm2-rollout')?.metadata?.resourceVersion).toBe(leaseVersion);
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
