import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RolloutChangeFeed } from '../../../lib/rollout/changeFeed.ts';
import { roleArns, roleCluster, type TestCluster } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectl } from '../manifests/cluster.ts';
import { applyShop, deleteShop, shopNamespace } from './rolloutFixture.ts';

let rollout: TestCluster;
let namespace: string;

/** Waits until the feed has been quiet for `quietMs` (status updates of the fresh shop are through). */
async function settle(feed: RolloutChangeFeed, quietMs = 1500): Promise<number> {
  for (;;) {
    const seen = feed.version;
    await new Promise((r) => setTimeout(r, quietMs));
    if (feed.version === seen) return seen;
  }
}

const touched = (feed: RolloutChangeFeed): string | undefined =>
  feed.deployment()?.metadata?.annotations?.['test.m2-eks-pipeline.io/touch'];

/** Waits on the feed (each wake one change of the Deployment, its ReplicaSets or pods) until its cache shows `value`. */
async function untilCached(feed: RolloutChangeFeed, value: string): Promise<number> {
  let wakes = 0;
  while (touched(feed) !== value) {
    await feed.next(feed.version);
    wakes++;
  }
  return wakes;
}

beforeAll(async () => {
  embeddedEnv();
  rollout = await roleCluster(roleArns.rollout);
  namespace = shopNamespace();
  await applyShop(namespace);
});

afterAll(() => {
  deleteShop(namespace);
});

describe('RolloutChangeFeed on the embedded stack, as m2:rollout', () => {
  it('lists the Deployment, its ReplicaSets and pods, and computes the rollout from them', async () => {
    // Act
    const feed = await RolloutChangeFeed.open(rollout, namespace, 'm2-http');
    const progress = feed.progress();
    feed.close();

    // Assess
    expect(progress?.status.phase).toBe('complete');
    expect(progress?.newTemplateHash).toBeDefined();
    expect(progress?.newPods.length).toBeGreaterThanOrEqual(3);
  });

  it('wakes a waiter when the Deployment changes, and its cache follows the change', async () => {
    // Prepare
    const feed = await RolloutChangeFeed.open(rollout, namespace, 'm2-http');
    const seen = await settle(feed);

    // Act
    const waiting = feed.next(seen);
    kubectl(['annotate', 'deployment/m2-http', '-n', namespace, 'test.m2-eks-pipeline.io/touch=first']);
    await waiting;
    await untilCached(feed, 'first');

    // Assess
    expect(feed.version).toBeGreaterThan(seen);
    expect(touched(feed)).toBe('first');
    feed.close();
  });

  it('wakes a waiter when it is closed', async () => {
    // Prepare
    const feed = await RolloutChangeFeed.open(rollout, namespace, 'm2-http');
    const seen = await settle(feed);

    // Act
    const waiting = feed.next(seen);
    feed.close();
    await waiting;

    // Assess
    expect(feed.version).toBeGreaterThan(seen);
  });

  it('re-opens expired watches from where they were and still sees later changes', async () => {
    // Prepare: watch requests of 1 s, so they expire during the test.
    const feed = await RolloutChangeFeed.open(rollout, namespace, 'm2-http', { watchTimeoutSeconds: 1 });
    const initial = feed.connections;
    await new Promise((r) => setTimeout(r, 3_500));
    const afterExpiries = feed.connections;

    // Act
    const seen = feed.version;
    kubectl([
      'annotate',
      'deployment/m2-http',
      '-n',
      namespace,
      '--overwrite',
      'test.m2-eks-pipeline.io/touch=again',
    ]);
    await untilCached(feed, 'again');

    // Assess
    feed.close();
    expect(initial).toBe(3);
    expect(afterExpiries).toBeGreaterThan(initial);
    expect(feed.version).toBeGreaterThan(seen);
    expect(touched(feed)).toBe('again');
  });
});
