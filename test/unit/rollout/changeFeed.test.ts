import { describe, expect, it } from 'vitest';
import { patchDeployment } from '../../../lib/k8s/deployments.ts';
import { ForbiddenError } from '../../../lib/k8s/errors.ts';
import { RolloutChangeFeed } from '../../../lib/rollout/changeFeed.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

const namespace = 'shop-a';

function newCluster(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.addDeployment(namespace, 'm2-http', { image: 'magento:1' });
  return cluster;
}

describe('RolloutChangeFeed on the fake cluster', () => {
  it('shows the rollout from its caches and wakes a waiter on the next change', async () => {
    // Prepare
    const cluster = newCluster();
    const feed = await RolloutChangeFeed.open(cluster, namespace, 'm2-http');
    const seen = feed.version;

    // Act
    const waiting = feed.next(seen);
    await patchDeployment(
      cluster,
      { namespace, name: 'm2-http' },
      {
        spec: { template: { spec: { containers: [{ name: 'nginx', image: 'magento:2' }] } } },
      },
    );
    await waiting;

    // Assess
    expect(feed.version).toBeGreaterThan(seen);
    expect(feed.progress()?.status.phase).toBe('progressing');
    expect(feed.progress()?.oldPods).toHaveLength(3);
    feed.close();
    expect(cluster.openWatches).toBe(0);
  });

  it('fails to open with the typed error, and leaves no watch behind, when the pods cannot be listed', async () => {
    // Prepare
    const cluster = newCluster();
    cluster.fail({ verb: 'list', resource: 'pods', status: 403 });

    // Act
    const opening = RolloutChangeFeed.open(cluster, namespace, 'm2-http');

    // Assess
    await expect(opening).rejects.toBeInstanceOf(ForbiddenError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(cluster.openWatches).toBe(0);
  });

  it('shows nothing once the Deployment is gone', async () => {
    const cluster = new FakeCluster();
    const feed = await RolloutChangeFeed.open(cluster, namespace, 'missing');
    expect(feed.progress()).toBeUndefined();
    feed.close();
  });
});
