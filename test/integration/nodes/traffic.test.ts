import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../bench/lib/traffic/loadGenerator.ts';
import { deployWebTier, webPods } from '../../../bench/lib/traffic/shopWeb.ts';
import { storefrontPaths } from '../../../bench/lib/traffic/storefrontPaths.ts';
import { summarize } from '../../../bench/lib/traffic/timeline.ts';
import { ensureShopSchema } from '../../../scripts/local/mariadb.ts';
import { adminCluster, deleteNamespace, type TestCluster, testNamespace } from '../../helpers/cluster.ts';

describe('storefront load on the example shop web tier on real nodes (M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let namespace: string;
  let service: string;

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'traffic');
    const db = ensureShopSchema(`m2_test_${namespace}`, { fresh: true });
    service = await deployWebTier(admin, namespace, {
      tag: '2.4.7-p3',
      replicas: 2,
      db,
      upgrades: ['2.4.7-p3'],
    });
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('records exactly the budget of requests against one web pod, every one served', async () => {
    // Prepare
    const [pod] = await webPods(admin, namespace);
    const target = `http://${pod?.status?.podIP ?? ''}:8080`;

    // Act
    const run = await startLoad({
      target,
      paths: storefrontPaths,
      rate: 20,
      budget: 120,
      timeLimitMs: 60_000,
    }).done;

    // Assess
    const summary = summarize(run.records);
    expect(run.endedBy).toBe('budget');
    expect(run.records).toHaveLength(120);
    expect(summary).toMatchObject({ requests: 120, served: 120, failed: 0, unfinished: 0, discarded: 0 });
    expect(new Set(run.records.map((r) => r.path))).toEqual(new Set(storefrontPaths));
    expect(
      new Set(run.records.map((r) => (r.outcome.kind === 'response' ? r.outcome.status : r.outcome.kind))),
    ).toEqual(new Set([200]));
  });

  it('fails no request through the Service while one of two web pods is deleted and shuts down', async () => {
    // Prepare: the shutdown timeline of base/web.yaml ends at nginx quit (preStop t=30 s) and php-fpm's
    // (t=35 s); the load runs until well after both.
    const [victim] = await webPods(admin, namespace);
    const load = startLoad({
      target: service,
      paths: storefrontPaths,
      rate: 20,
      budget: 20 * 50,
      timeLimitMs: 80_000,
    });

    // Act
    await new Promise((r) => setTimeout(r, 3_000));
    await admin.core.deleteNamespacedPod({ namespace, name: victim?.metadata?.name ?? '' });
    const run = await load.done;

    // Assess
    const summary = summarize(run.records);
    expect(run.endedBy).toBe('budget');
    expect(summary.requests).toBe(1000);
    expect(summary.failures).toEqual({});
    expect(summary.failed).toBe(0);
  });
});
