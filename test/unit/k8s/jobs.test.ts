import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, K8sTimeoutError, NotFoundError } from '../../../lib/k8s/errors.ts';
import { createJob, waitForJob } from '../../../lib/k8s/jobs.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

const namespace = 'shop-a';

const job = (name: string, image: string, backoffLimit = 0): V1Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: {
    backoffLimit,
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'upgrade', image }] } },
  },
});

describe('createJob and waitForJob on the fake cluster', () => {
  it.each([
    ['magento:2.4.8', 'succeeded', 'CompletionsReached'],
    ['magento:2.4.8-job-fail', 'failed', 'BackoffLimitExceeded'],
  ])('waits for a Job running %s until it has %s', async (image, result, reason) => {
    // Prepare
    const cluster = new FakeCluster();
    await createJob(cluster, namespace, job('migrate', image));

    // Act
    const outcome = await waitForJob(cluster, { namespace, name: 'migrate' }, 60_000);

    // Assess
    expect(outcome).toMatchObject({ result, reason });
    expect(cluster.openWatches).toBe(0);
  });

  it('retries a failed pod up to backoffLimit before the Job fails', async () => {
    // Prepare
    const cluster = new FakeCluster();
    await createJob(cluster, namespace, job('migrate', 'magento:2.4.8-job-fail', 2));

    // Act
    const outcome = await waitForJob(cluster, { namespace, name: 'migrate' }, 60_000);

    // Assess
    expect(outcome.result).toBe('failed');
    expect(cluster.objects('pods', namespace, 'job-name=migrate')).toHaveLength(3);
  });

  it('throws K8sTimeoutError when the Job does not finish in time, and closes its watch', async () => {
    // Prepare
    const cluster = new FakeCluster();
    await createJob(cluster, namespace, job('migrate', 'magento:2.4.8-job-hang'));

    // Act
    const waiting = waitForJob(cluster, { namespace, name: 'migrate' }, 30_000);

    // Assess
    await expect(waiting).rejects.toBeInstanceOf(K8sTimeoutError);
    expect(cluster.openWatches).toBe(0);
  });

  it('throws NotFoundError for a Job that does not exist', async () => {
    const cluster = new FakeCluster();
    await expect(waitForJob(cluster, { namespace, name: 'missing' }, 30_000)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('sees the outcome of a Job that finished while its watch was down', async () => {
    // Prepare: the watch breaks right after the wait started; the pod finishes meanwhile.
    const cluster = new FakeCluster();
    await createJob(cluster, namespace, job('migrate', 'magento:2.4.8'));
    const waiting = waitForJob(cluster, { namespace, name: 'migrate' }, 60_000);
    await new Promise((resolve) => setImmediate(resolve));

    // Act
    cluster.dropWatches();

    // Assess
    await expect(waiting).resolves.toMatchObject({ result: 'succeeded' });
  });

  it('refuses a second Job of the same name', async () => {
    const cluster = new FakeCluster();
    await createJob(cluster, namespace, job('migrate', 'magento:2.4.8'));
    await expect(createJob(cluster, namespace, job('migrate', 'magento:2.4.8'))).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
  });
});
