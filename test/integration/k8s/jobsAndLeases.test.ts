import type { V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, LeaseHeldError, NotFoundError } from '../../../lib/k8s/errors.ts';
import { createJob, waitForJob } from '../../../lib/k8s/jobs.ts';
import { acquireLease, releaseLease, renewLease } from '../../../lib/k8s/leases.ts';
import { adminCluster, deleteNamespace, type TestCluster, testNamespace } from '../../helpers/cluster.ts';

const migration = (name: string, image: string): V1Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: {
    backoffLimit: 0,
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'setup-upgrade', image }] } },
  },
});

describe('Jobs and Leases on the embedded cluster', () => {
  let admin: TestCluster;
  let namespace: string;

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'jobs');
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it.each([
    ['magento:2.4.8', 'succeeded'],
    ['magento:2.4.8-job-fail', 'failed'],
  ])('watches a Job running %s until it has %s', async (image, result) => {
    // Prepare
    const name = `migrate-${result}`;
    await createJob(admin, namespace, migration(name, image));

    // Act
    const outcome = await waitForJob(admin, { namespace, name }, 60_000);

    // Assess
    expect(outcome.result).toBe(result);
  });

  it('refuses a second Job of the same name', async () => {
    // Prepare
    await createJob(admin, namespace, migration('once', 'magento:2.4.8'));

    // Act
    const again = createJob(admin, namespace, migration('once', 'magento:2.4.8'));

    // Assess
    await expect(again).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('throws NotFoundError when waiting for a Job that does not exist', async () => {
    await expect(waitForJob(admin, { namespace, name: 'never-created' }, 10_000)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('lets exactly one of two contenders hold a Lease, and hands it over on release', async () => {
    // Prepare
    const lease = { namespace, name: 'rollout-shop-a', durationSeconds: 60 };
    const a = { ...lease, holder: 'pipeline-run-a' };
    const b = { ...lease, holder: 'pipeline-run-b' };

    // Act
    const [first, second] = await Promise.all([acquireLease(admin, a), acquireLease(admin, b)]);
    const winner = first.acquired ? a : b;
    const loser = first.acquired ? b : a;
    const renewed = await renewLease(admin, winner);
    const stolenRenewal = await renewLease(admin, loser).catch((error: unknown) => error);
    const released = await releaseLease(admin, winner);
    const takeover = await acquireLease(admin, loser);

    // Assess
    expect([first.acquired, second.acquired].sort()).toEqual([false, true]);
    expect(renewed.holder).toBe(winner.holder);
    expect(stolenRenewal).toBeInstanceOf(LeaseHeldError);
    expect(released).toBe(true);
    expect(takeover).toMatchObject({ acquired: true, lease: { holder: loser.holder } });
  });

  it('takes over a Lease whose holder stopped renewing it', async () => {
    // Prepare: a holder whose clock is two minutes behind wrote a renewal that has already lapsed.
    const past = await adminCluster({ now: () => Date.now() - 120_000 });
    const lease = { namespace, name: 'scaler-lock', durationSeconds: 30 };
    await acquireLease(past, { ...lease, holder: 'crashed-invocation' });

    // Act
    const acquisition = await acquireLease(admin, { ...lease, holder: 'next-invocation' });

    // Assess
    expect(acquisition.acquired).toBe(true);
    expect(acquisition.lease.transitions).toBe(1);
  });
});
