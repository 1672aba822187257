import { describe, expect, it } from 'vitest';
import { patchDeployment } from '../../../lib/k8s/deployments.ts';
import { ExternalEditError, TargetFailedError } from '../../../lib/rollout/errors.ts';
import { type WaitSettings, waitForDeploymentRollout } from '../../../lib/rollout/waitRollout.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

const namespace = 'shop-a';
const ref = { namespace, name: 'm2-http' };

/** m2-http (3 replicas, maxSurge 1, maxUnavailable 0, pods Ready 1 s after start) with its image just patched. */
async function patched(image: string, seed: { progressDeadlineSeconds?: number } = {}): Promise<FakeCluster> {
  const cluster = new FakeCluster();
  cluster.addDeployment(namespace, 'm2-http', {
    image: 'magento:2.4.7',
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    ...seed,
  });
  await patchDeployment(cluster, ref, {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'php-fpm', image },
            { name: 'nginx', image },
          ],
        },
      },
    },
  });
  return cluster;
}

function settings(cluster: FakeCluster, over: Partial<WaitSettings> = {}): WaitSettings {
  const now = cluster.clock.now();
  return {
    deadlineAt: now + 900_000,
    handOverAt: now + 840_000,
    recheckMs: 10_000,
    maxRestarts: 2,
    now: cluster.clock.now,
    sleep: cluster.clock.sleep,
    ...over,
  };
}

/** A timer that never fires: only watch events can wake the wait (the test moves the clock itself). */
const never = (): Promise<void> => new Promise(() => undefined);

const failureOf = async (waiting: Promise<unknown>): Promise<TargetFailedError> => {
  const error = await waiting.catch((e: unknown) => e);
  if (!(error instanceof TargetFailedError))
    throw new Error(`expected a TargetFailedError, got ${String(error)}`);
  return error;
};

const images = (cluster: FakeCluster) =>
  cluster
    .objects('pods', namespace, 'app=m2-http')
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((p) => p.spec?.containers[0]?.image);

describe('waitForDeploymentRollout on the fake cluster', () => {
  it('waits while the rolling update replaces the pods one by one, and completes with all new pods', async () => {
    // Prepare
    const cluster = await patched('magento:2.4.8');

    // Act
    const result = await waitForDeploymentRollout(cluster, namespace, 'm2-http', settings(cluster));

    // Assess
    expect(result).toBe('complete');
    expect(images(cluster)).toEqual(['magento:2.4.8', 'magento:2.4.8', 'magento:2.4.8']);
    expect(cluster.openWatches).toBe(0);
  });

  it('judges watch events from the informers’ caches instead of reading the Deployment again', async () => {
    // Prepare: the safety-net timer never fires, so only events can wake the wait.
    const cluster = await patched('magento:2.4.8');
    const before = cluster.requests.length;

    // Act
    const waiting = waitForDeploymentRollout(
      cluster,
      namespace,
      'm2-http',
      settings(cluster, { sleep: never }),
    );
    // Time moves on in small steps (as other work would move it), each step a burst of pod events.
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      cluster.clock.advance(250);
    }
    const result = await waiting;

    // Assess
    expect(result).toBe('complete');
    const during = cluster.requests.slice(before);
    // One read before the watches (Deployment, ReplicaSets, pods), one list per informer, no reads per event.
    expect(during.filter((r) => r.verb === 'get')).toHaveLength(1);
    expect(during.filter((r) => r.verb === 'list')).toHaveLength(5);
  });

  it.each([
    ['magento:2.4.8-pull-error', 'ImagePullBackOff|ErrImagePull'],
    ['magento:2.4.8-crashloop', 'CrashLoopBackOff'],
  ])('fails fast on %s, naming the new pod, long before any deadline', async (image, reason) => {
    // Prepare
    const cluster = await patched(image);
    const started = cluster.clock.now();

    // Act
    const failure = await failureOf(
      waitForDeploymentRollout(cluster, namespace, 'm2-http', settings(cluster)),
    );

    // Assess
    expect(failure.target).toBe('shop-a/deployment/m2-http');
    expect(failure.reason).toMatch(new RegExp(reason));
    expect(failure.pod).toMatch(/^m2-http-/);
    expect(cluster.clock.now() - started).toBeLessThan(60_000);
    // The old pods still serve: maxUnavailable 0.
    expect(images(cluster).filter((i) => i === 'magento:2.4.7')).toHaveLength(3);
  });

  it('fails when the Deployment reports ProgressDeadlineExceeded for a pod that never gets Ready', async () => {
    // Prepare
    const cluster = await patched('magento:2.4.8-never-ready', { progressDeadlineSeconds: 60 });
    const started = cluster.clock.now();

    // Act
    const failure = await failureOf(
      waitForDeploymentRollout(cluster, namespace, 'm2-http', settings(cluster)),
    );

    // Assess
    expect(failure.pod).toBeUndefined();
    expect(cluster.clock.now() - started).toBeGreaterThanOrEqual(60_000);
    expect(cluster.clock.now() - started).toBeLessThan(900_000);
  });

  it('fails at its own deadline when the Deployment has no usable progress deadline', async () => {
    // Prepare
    const cluster = await patched('magento:2.4.8-never-ready', { progressDeadlineSeconds: 3600 });
    const deadlineAt = cluster.clock.now() + 120_000;

    // Act
    const failure = await failureOf(
      waitForDeploymentRollout(
        cluster,
        namespace,
        'm2-http',
        settings(cluster, { deadlineAt, handOverAt: deadlineAt + 1 }),
      ),
    );

    // Assess
    expect(failure.target).toBe('shop-a/deployment/m2-http');
    expect(cluster.clock.now()).toBeGreaterThanOrEqual(deadlineAt);
  });

  it('hands over, without a verdict, when the invocation has to reply first', async () => {
    // Prepare
    const cluster = await patched('magento:2.4.8-never-ready');
    const handOverAt = cluster.clock.now() + 30_000;

    // Act
    const result = await waitForDeploymentRollout(
      cluster,
      namespace,
      'm2-http',
      settings(cluster, { handOverAt }),
    );

    // Assess
    expect(result).toBe('handed-over');
    expect(cluster.clock.now()).toBeGreaterThanOrEqual(handOverAt);
    expect(cluster.openWatches).toBe(0);
  });

  it('stops with the check’s error when someone else edits the target during the wait', async () => {
    // Prepare: the check refuses a Deployment whose image is not ours any more.
    const cluster = await patched('magento:2.4.8-never-ready');
    const check: WaitSettings['check'] = (deployment) => {
      const image = deployment.spec?.template.spec?.containers.find((c) => c.name === 'php-fpm')?.image;
      if (image !== 'magento:2.4.8-never-ready')
        throw new ExternalEditError('shop-a/deployment/m2-http', `image is ${image}`);
    };
    const waiting = waitForDeploymentRollout(
      cluster,
      namespace,
      'm2-http',
      settings(cluster, { check, sleep: never }),
    );
    await new Promise((resolve) => setImmediate(resolve));

    // Act: a hotfix arrives while the rollout waits.
    await patchDeployment(cluster, ref, {
      spec: { template: { spec: { containers: [{ name: 'php-fpm', image: 'magento:hotfix' }] } } },
    });

    // Assess
    await expect(waiting).rejects.toBeInstanceOf(ExternalEditError);
  });
});
