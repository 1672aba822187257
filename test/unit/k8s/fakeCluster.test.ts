import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../../lib/k8s/clusterClient.ts';
import { jsonPatchDeployment, patchDeployment } from '../../../lib/k8s/deployments.ts';
import { ConflictError, InvalidError } from '../../../lib/k8s/errors.ts';
import { rolloutStatus } from '../../../lib/k8s/rolloutStatus.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

// The fake is a model of the apiserver and its controllers: these tests pin the behaviour the
// rollout's unit tests rely on, as the real control plane shows it (test/integration/k8s).

const namespace = 'shop-a';
const ref = { namespace, name: 'web' };
const drain = () => new Promise((resolve) => setImmediate(resolve));

function web(maxSurge: number, maxUnavailable: number): FakeCluster {
  const cluster = new FakeCluster();
  cluster.addDeployment(namespace, 'web', {
    image: 'magento:1',
    replicas: 4,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } },
  });
  return cluster;
}

const newImage = (image: string) => ({
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'nginx', image },
          { name: 'php-fpm', image },
        ],
      },
    },
  },
});

describe('the fake cluster’s Deployment controller', () => {
  it.each([
    [1, 0],
    [2, 1],
    [0, 1],
  ])(
    'rolls out within maxSurge %i and maxUnavailable %i, then scales the old ReplicaSet to 0',
    async (surge, unavailable) => {
      // Prepare
      const cluster = web(surge, unavailable);
      const seen: { pods: number; available: number }[] = [];
      cluster.clock.onAdvance(() => {
        const pods = cluster
          .objects('pods', namespace, 'app=web')
          .filter((p) => p.metadata?.deletionTimestamp === undefined);
        seen.push({
          pods: pods.length,
          available: cluster.object('deployments', namespace, 'web')?.status?.availableReplicas ?? 0,
        });
      });

      // Act
      await patchDeployment(cluster, ref, newImage('magento:2'));
      for (let i = 0; i < 40; i++) cluster.clock.advance(250);

      // Assess
      const deployment = cluster.object('deployments', namespace, 'web');
      expect(deployment === undefined ? undefined : rolloutStatus(deployment).phase).toBe('complete');
      expect(deployment?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
      expect(Math.max(...seen.map((s) => s.pods))).toBeLessThanOrEqual(4 + surge);
      expect(Math.min(...seen.map((s) => s.available))).toBeGreaterThanOrEqual(4 - unavailable);
      const replicaSets = cluster.objects('replicasets', namespace, 'app=web');
      expect(replicaSets.map((rs) => rs.spec?.replicas).sort()).toEqual([0, 4]);
    },
  );

  it('counts a rollout stalled on never-ready pods as ProgressDeadlineExceeded after the deadline', async () => {
    // Prepare
    const cluster = new FakeCluster();
    cluster.addDeployment(namespace, 'web', { image: 'magento:1', progressDeadlineSeconds: 30 });

    // Act
    await patchDeployment(cluster, ref, newImage('magento:2-never-ready'));
    cluster.clock.advance(29_000);
    const before = cluster.object('deployments', namespace, 'web');
    cluster.clock.advance(2_000);
    const after = cluster.object('deployments', namespace, 'web');

    // Assess
    expect(before === undefined ? undefined : rolloutStatus(before).phase).toBe('progressing');
    expect(after === undefined ? undefined : rolloutStatus(after).phase).toBe('failed');
  });
});

describe('the fake apiserver', () => {
  it('refuses a write carrying a stale resourceVersion with 409', async () => {
    // Prepare
    const cluster = web(1, 0);
    const stale = cluster.object('deployments', namespace, 'web')?.metadata?.resourceVersion;
    await patchDeployment(cluster, ref, { metadata: { labels: { touched: 'yes' } } }, 'merge');

    // Act
    const write = patchDeployment(
      cluster,
      ref,
      { metadata: { resourceVersion: stale, labels: { again: 'yes' } } },
      'merge',
    );

    // Assess
    await expect(write).rejects.toBeInstanceOf(ConflictError);
  });

  it('answers a JSON patch whose test operation fails with 422', async () => {
    const cluster = web(1, 0);
    const write = jsonPatchDeployment(cluster, ref, [{ op: 'test', path: '/spec/replicas', value: 7 }]);
    await expect(write).rejects.toBeInstanceOf(InvalidError);
  });

  it('ends a watch after its timeoutSeconds, and answers a resumption from before compaction with 410', async () => {
    // Prepare
    const cluster = web(1, 0);
    const list = await cluster.list('deployments', { namespace });
    const events: WatchEvent<V1Deployment>[] = [];
    let ended = false;
    await cluster.watch(
      'deployments',
      { namespace, resourceVersion: list.metadata?.resourceVersion, timeoutSeconds: 5 },
      (e) => events.push(e),
      () => {
        ended = true;
      },
    );

    // Act
    cluster.clock.advance(6_000);
    await drain();
    cluster.compact();
    const gone: WatchEvent<V1Deployment>[] = [];
    await cluster.watch(
      'deployments',
      { namespace, resourceVersion: list.metadata?.resourceVersion },
      (e) => gone.push(e),
      () => undefined,
    );
    await drain();

    // Assess
    expect(ended).toBe(true);
    expect(gone).toEqual([{ type: 'ERROR', object: expect.objectContaining({ code: 410 }) }]);
  });
});
