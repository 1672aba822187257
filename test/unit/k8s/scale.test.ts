import { describe, expect, it } from 'vitest';
import { ConflictError, ServerError } from '../../../lib/k8s/errors.ts';
import { readScale, updateScale, writeScale } from '../../../lib/k8s/scale.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

const ref = { namespace: 'shop-a', name: 'consumer' };

function newCluster(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.addDeployment(ref.namespace, ref.name, { replicas: 1 });
  return cluster;
}

describe('the scale subresource on the fake cluster', () => {
  it('refuses a write at a stale resourceVersion (ConflictError) and leaves the scale as it was', async () => {
    // Prepare
    const cluster = newCluster();
    const read = await readScale(cluster, ref);
    await updateScale(cluster, ref, () => 2);

    // Act
    const stale = writeScale(cluster, ref, 5, read.resourceVersion);

    // Assess
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    expect((await readScale(cluster, ref)).replicas).toBe(2);
  });

  it('reads and decides again after a conflict, so no update is lost', async () => {
    // Prepare
    const cluster = newCluster();
    cluster.fail({ verb: 'update', resource: 'deployments/scale', status: 409 });

    // Act
    const update = await updateScale(cluster, ref, (s) => s.replicas + 1);

    // Assess
    expect(update).toMatchObject({ changed: true, previousReplicas: 1, scale: { replicas: 2 } });
    expect(cluster.requests.filter((r) => r.resource === 'deployments/scale').map((r) => r.verb)).toEqual([
      'get',
      'update',
      'get',
      'update',
    ]);
  });

  it('waits out 429 with its Retry-After and 503 with back-off, then succeeds', async () => {
    // Prepare
    const cluster = newCluster();
    cluster.fail({ verb: 'get', resource: 'deployments/scale', status: 429, retryAfterSeconds: 2 });
    cluster.fail({ verb: 'get', resource: 'deployments/scale', status: 503 });
    const started = cluster.clock.now();

    // Act
    const scale = await readScale(cluster, ref);

    // Assess
    expect(scale.replicas).toBe(1);
    expect(cluster.clock.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it('gives up with ServerError once the retries are spent', async () => {
    const cluster = newCluster();
    cluster.fail({ verb: 'get', resource: 'deployments/scale', status: 500, times: 100 });
    await expect(readScale(cluster, ref)).rejects.toBeInstanceOf(ServerError);
  });

  it('scales the Deployment: the ReplicaSet gets the pods, Ready once the kubelet says so', async () => {
    // Prepare
    const cluster = newCluster();

    // Act
    await updateScale(cluster, ref, () => 3);
    const right = cluster.objects('pods', ref.namespace, 'app=consumer');
    cluster.clock.advance(1000);
    const later = cluster.objects('pods', ref.namespace, 'app=consumer');

    // Assess
    const ready = (pods: typeof right) =>
      pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    expect([right.length, ready(right)]).toEqual([3, 1]);
    expect([later.length, ready(later)]).toEqual([3, 3]);
  });
});
