import { describe, expect, it } from 'vitest';
import { allImages, consumers, invoke, newImage, newShop } from './shop.ts';

const everyTarget = ['deployments/m2-http', ...consumers.map((c) => `deployments/${c}`), 'cronjobs/m2-cron'];

describe('runRollout when the apiserver answers with errors', () => {
  it('reads again and re-decides when a write loses a race (409), writing each template once', async () => {
    // Prepare: the first patch of m2-http and of the cron job conflict (someone wrote in between).
    const shop = newShop();
    shop.cluster.fail({ verb: 'patch', resource: 'deployments', name: 'm2-http', status: 409 });
    shop.cluster.fail({ verb: 'patch', resource: 'cronjobs', status: 409 });
    shop.cluster.fail({ verb: 'update', resource: 'leases', status: 409 });

    // Act
    const result = await invoke(shop, { id: 'release-409' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(shop.cluster.templateWrites.map((w) => w.target)).toEqual(everyTarget);
  });

  it.each([
    [429, 'Retry-After 1 s'],
    [503, 'back-off'],
    [500, 'back-off'],
  ])('rides out a burst of %s answers (%s) and still rolls out', async (status) => {
    // Prepare
    const shop = newShop();
    shop.cluster.fail({ verb: 'get', resource: 'deployments', status, retryAfterSeconds: 1, times: 2 });
    shop.cluster.fail({ verb: 'list', resource: 'pods', status, retryAfterSeconds: 1, times: 2 });
    shop.cluster.fail({ verb: 'get', resource: 'leases', status, retryAfterSeconds: 1 });

    // Act
    const result = await invoke(shop, { id: `release-${status}` });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(allImages(shop).web).toEqual([newImage, newImage]);
  });

  it('fails and rolls back when the apiserver keeps failing while it waits', async () => {
    // Prepare: from the first wait on, every pod list fails for longer than the retry budget.
    const shop = newShop();
    shop.cluster.fail({ verb: 'list', resource: 'pods', status: 503, times: 1000 });

    // Act
    const result = await invoke(shop, { id: 'release-503' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({ kind: 'ServerError' });
    expect(allImages(shop).web).toEqual(['registry.example/magento:2.4.7', 'registry.example/magento:2.4.7']);
  });

  it('refuses without patching when RBAC forbids the write (403)', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.fail({ verb: 'patch', resource: 'deployments', status: 403, times: 1000 });

    // Act
    const result = await invoke(shop, { id: 'release-403' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({ kind: 'ForbiddenError' });
    expect(shop.cluster.templateWrites).toEqual([]);
  });
});
