import { describe, expect, it } from 'vitest';
import { previewAnnotation } from '../../../lib/rollout/preview.ts';
import { allImages, failureOf, invoke, namespace, newImage, newShop, oldImage, podImages } from './shop.ts';

describe('runRollout when the new image cannot run', () => {
  it.each([
    ['pull-error', 'ImagePullBackOff|ErrImagePull'],
    ['crashloop', 'CrashLoopBackOff'],
  ] as const)(
    'rolls back at once on %s in a new web pod (preview off), long before the progress deadline',
    async (run, reason) => {
      // Prepare
      const shop = newShop({ webAnnotations: { [previewAnnotation]: 'false' } });
      shop.cluster.setImageBehaviour(newImage, { run });
      const started = shop.cluster.clock.now();

      // Act
      const result = await invoke(shop, { id: `release-${run}` });

      // Assess
      expect(result.outcome).toBe('failed');
      expect(result.state?.phase).toBe('failure');
      expect(result.state?.patched).toEqual([{ kind: 'Deployment', name: 'm2-http' }]);
      expect(result.failure).toEqual({
        kind: 'TargetFailedError',
        target: 'shop-a/deployment/m2-http',
        pod: expect.stringMatching(/^m2-http-/),
        reason: expect.stringMatching(new RegExp(`^(${reason}) `)),
      });
      // Detected within a minute on the test clock; the progress deadline is ten.
      expect(shop.cluster.clock.now() - started).toBeLessThan(60_000);
      expect(allImages(shop).web).toEqual([oldImage, oldImage]);
      // The old pods kept serving (maxUnavailable 0) and are all that is left.
      expect(podImages(shop, 'm2-http')).toEqual(Array(6).fill(oldImage));
      expect(shop.cluster.templateWrites.map((w) => w.target)).toEqual([
        'deployments/m2-http',
        'deployments/m2-http',
      ]);
      // The report says what happened, and only that: the failing pods being replaced by the
      // rollback are not judged as the rollback's own (the demo once printed "rollback failed" too).
      const message = failureOf(shop, `release-${run}`) ?? '';
      expect(message).toMatch(/Rolled back to the recorded images: shop-a\/deployment\/m2-http\.$/);
      expect(message).not.toMatch(/rollback failed|NOT rolled back/);
    },
  );

  it('rolls web back too when a consumer crash-loops', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'crashloop' }, 'm2-consumer-media');

    // Act
    const result = await invoke(shop, { id: 'release-consumer' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toMatchObject({
      kind: 'TargetFailedError',
      target: `${namespace}/deployment/m2-consumer-media`,
    });
    expect(allImages(shop)).toEqual({
      web: [oldImage, oldImage],
      consumers: [
        [oldImage, oldImage],
        [oldImage, oldImage],
      ],
      cron: [oldImage],
    });
  });
});
