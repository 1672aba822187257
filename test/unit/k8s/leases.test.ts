import { describe, expect, it } from 'vitest';
import { LeaseHeldError } from '../../../lib/k8s/errors.ts';
import { acquireLease, releaseLease, renewLease } from '../../../lib/k8s/leases.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

const lease = { namespace: 'shop-a', name: 'm2-rollout', durationSeconds: 60 };
const a = { ...lease, holder: 'release-a' };
const b = { ...lease, holder: 'release-b' };

describe('Leases on the fake cluster', () => {
  it('lets exactly one of two concurrent contenders win, and hands over on release', async () => {
    // Prepare
    const cluster = new FakeCluster();

    // Act
    const [first, second] = await Promise.all([acquireLease(cluster, a), acquireLease(cluster, b)]);
    const winner = first.acquired ? a : b;
    const loser = first.acquired ? b : a;
    const stolen = await renewLease(cluster, loser).catch((error: unknown) => error);
    const released = await releaseLease(cluster, winner);
    const takeover = await acquireLease(cluster, loser);

    // Assess
    expect([first.acquired, second.acquired].sort()).toEqual([false, true]);
    expect(stolen).toBeInstanceOf(LeaseHeldError);
    expect(released).toBe(true);
    expect(takeover).toMatchObject({ acquired: true, lease: { holder: loser.holder } });
  });

  it('takes over a lease whose holder stopped renewing it, counting the transition', async () => {
    // Prepare
    const cluster = new FakeCluster();
    await acquireLease(cluster, a);
    cluster.clock.advance(61_000);

    // Act
    const acquisition = await acquireLease(cluster, b);

    // Assess
    expect(acquisition).toMatchObject({ acquired: true, lease: { holder: 'release-b', transitions: 1 } });
  });

  it('renews while the holder keeps it, so a contender stays refused', async () => {
    // Prepare
    const cluster = new FakeCluster();
    await acquireLease(cluster, a);
    cluster.clock.advance(45_000);
    await renewLease(cluster, a);
    cluster.clock.advance(45_000);

    // Act
    const contender = await acquireLease(cluster, b);

    // Assess
    expect(contender).toMatchObject({ acquired: false, lease: { holder: 'release-a' } });
  });

  it('reads again and retries when its update loses a race (409 Conflict)', async () => {
    // Prepare
    const cluster = new FakeCluster();
    await acquireLease(cluster, a);
    cluster.fail({ verb: 'update', resource: 'leases', status: 409 });

    // Act
    const renewed = await renewLease(cluster, a);

    // Assess
    expect(renewed.holder).toBe('release-a');
    expect(cluster.requests.filter((r) => r.verb === 'update' && r.resource === 'leases')).toHaveLength(2);
  });

  it('does not release a lease someone else holds', async () => {
    const cluster = new FakeCluster();
    await acquireLease(cluster, a);
    expect(await releaseLease(cluster, b)).toBe(false);
    expect(cluster.lease('shop-a', 'm2-rollout')?.spec?.holderIdentity).toBe('release-a');
  });
});
