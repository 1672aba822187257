import { describe, expect, it } from 'vitest';
import { patchDeployment } from '../../../lib/k8s/deployments.ts';
import { ForbiddenError } from '../../../lib/k8s/errors.ts';
import { startInformer } from '../../../lib/k8s/informer.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

const namespace = 'shop-a';
const ref = { namespace, name: 'm2-http' };

/** Lets queued watch events and the informer's callbacks run. */
const drain = () => new Promise((resolve) => setImmediate(resolve));

const touch = (cluster: FakeCluster, value: string) =>
  patchDeployment(cluster, ref, { metadata: { annotations: { touched: value } } }, 'merge');

const lists = (cluster: FakeCluster) => cluster.requests.filter((r) => r.verb === 'list').length;

function newCluster(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.addDeployment(namespace, 'm2-http');
  return cluster;
}

describe('startInformer over the port', () => {
  it('lists the selected objects, then follows their changes through the watch', async () => {
    // Prepare
    const cluster = newCluster();
    const changes: string[] = [];

    // Act
    const informer = await startInformer(
      cluster,
      'deployments',
      { namespace, fieldSelector: 'metadata.name=m2-http' },
      { onChange: (d) => changes.push(d.metadata?.annotations?.touched ?? 'listed') },
    );
    await touch(cluster, 'once');
    await drain();

    // Assess
    expect(informer.get('m2-http')?.metadata?.annotations?.touched).toBe('once');
    expect(changes).toContain('once');
    expect(lists(cluster)).toBe(1);
    informer.stop();
  });

  it('resumes an ended watch from its resourceVersion without listing again', async () => {
    // Prepare
    const cluster = newCluster();
    const informer = await startInformer(cluster, 'deployments', { namespace });

    // Act: the apiserver ends the watch; a change happens before the informer is back.
    cluster.dropWatches();
    await touch(cluster, 'while-away');
    await drain();
    await drain();

    // Assess
    expect(informer.get('m2-http')?.metadata?.annotations?.touched).toBe('while-away');
    expect(informer.connections).toBe(2);
    expect(lists(cluster)).toBe(1);
    informer.stop();
  });

  it('lists again when its resourceVersion has expired (410 Gone)', async () => {
    // Prepare
    const cluster = newCluster();
    const informer = await startInformer(cluster, 'deployments', { namespace });

    // Act: the history is compacted and the watch dropped, so resuming answers 410.
    await touch(cluster, 'before-compaction');
    cluster.compact();
    cluster.dropWatches();
    for (let i = 0; i < 5; i++) await drain();

    // Assess
    expect(lists(cluster)).toBe(2);
    expect(informer.get('m2-http')?.metadata?.annotations?.touched).toBe('before-compaction');
    informer.stop();
  });

  it('restarts after a failed watch and picks up what changed meanwhile', async () => {
    // Prepare
    const cluster = newCluster();
    const errors: unknown[] = [];
    const informer = await startInformer(
      cluster,
      'deployments',
      { namespace },
      { onError: (e) => errors.push(e) },
    );

    // Act: the watch request itself fails once (503), then works again.
    cluster.fail({ verb: 'watch', resource: 'deployments', status: 503 });
    cluster.dropWatches();
    await touch(cluster, 'after-failure');
    for (let i = 0; i < 5; i++) await drain();

    // Assess
    expect(errors).toHaveLength(1);
    expect(informer.get('m2-http')?.metadata?.annotations?.touched).toBe('after-failure');
    informer.stop();
  });

  it('rejects with the typed error when the objects cannot be listed at all', async () => {
    // Prepare
    const cluster = newCluster();
    cluster.fail({ verb: 'list', resource: 'pods', status: 403 });

    // Act
    const started = startInformer(cluster, 'pods', { namespace });

    // Assess
    await expect(started).rejects.toBeInstanceOf(ForbiddenError);
    expect(cluster.openWatches).toBe(0);
  });

  it('closes its watch when stopped', async () => {
    // Prepare
    const cluster = newCluster();
    const informer = await startInformer(cluster, 'pods', { namespace, labelSelector: 'app=m2-http' });

    // Act
    informer.stop();

    // Assess
    expect(informer.list()).toHaveLength(3);
    expect(cluster.openWatches).toBe(0);
  });
});
