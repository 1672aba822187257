import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { RolloutChangeFeed } from '../../../lib/rollout/changeFeed.ts';
import { roleArns, roleCluster } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectl } from '../manifests/cluster.ts';
import { applyShop, deleteShop, shopNamespace } from './rolloutFixture.ts';

let rollout: ClusterClient;
let namespace: string;

/** Waits until the feed has been quiet for `quietMs` (its initial ADDED events are through). */
async function settle(feed: RolloutChangeFeed, quietMs = 1500): Promise<number> {
  for (;;) {
    const seen = feed.version;
    await new Promise((r) => setTimeout(r, quietMs));
    if (feed.version === seen) return seen;
  }
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
  it('wakes a waiter as soon as the Deployment changes, long before its timeout', async () => {
    // Prepare
    const feed = await RolloutChangeFeed.open(rollout, namespace, 'm2-http');
    const seen = await settle(feed);
    const started = Date.now();

    // Act
    const waiting = feed.changedSince(seen, 60_000);
    kubectl(['annotate', 'deployment/m2-http', '-n', namespace, `test.m2-eks-pipeline.io/touch=${started}`]);
    await waiting;

    // Assess
    feed.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(feed.version).toBeGreaterThan(seen);
  });

  it('never keeps a waiter past its timeout', async () => {
    // Prepare
    const feed = await RolloutChangeFeed.open(rollout, namespace, 'm2-http');
    const seen = await settle(feed);
    const started = Date.now();

    // Act: a long quiet spell is not guaranteed (status and pod updates), so wait without changing anything.
    await feed.changedSince(seen, 1_000);

    // Assess
    feed.close();
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('re-opens an expired watch, re-reading the state, and still sees later changes', async () => {
    // Prepare: watch requests of 1 s, so they expire during the test.
    const feed = await RolloutChangeFeed.open(rollout, namespace, 'm2-http', 1);
    const initial = feed.version;
    await new Promise((r) => setTimeout(r, 3_500));
    const afterExpiries = feed.version;

    // Act
    const seen = feed.version;
    const waiting = feed.changedSince(seen, 60_000);
    kubectl([
      'annotate',
      'deployment/m2-http',
      '-n',
      namespace,
      '--overwrite',
      'test.m2-eks-pipeline.io/touch=again',
    ]);
    await waiting;

    // Assess
    feed.close();
    // Each re-opened watch replays the objects as ADDED: more events than one opening gives.
    expect(afterExpiries).toBeGreaterThan(initial);
    expect(afterExpiries).toBeGreaterThan(4);
    expect(feed.version).toBeGreaterThan(seen);
  });
});
