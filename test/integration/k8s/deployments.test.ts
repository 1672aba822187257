import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeploymentsByLabel, patchDeployment, readDeployment } from '../../../lib/k8s/deployments.ts';
import { ConflictError, NotFoundError } from '../../../lib/k8s/errors.ts';
import { readRolloutProgress } from '../../../lib/k8s/rolloutProgress.ts';
import { isPodFailing } from '../../../lib/k8s/rolloutStatus.ts';
import { readScale, updateScale, writeScale } from '../../../lib/k8s/scale.ts';
import {
  adminCluster,
  deleteNamespace,
  eventually,
  type TestCluster,
  testDeployment,
  testNamespace,
} from '../../helpers/cluster.ts';

/** A strategic merge patch setting one container's image (containers merge by name). */
const imagePatch = (container: string, image: string) => ({
  spec: { template: { spec: { containers: [{ name: container, image }] } } },
});

describe('Deployments, scale and rollouts on the embedded cluster', () => {
  let admin: TestCluster;
  let namespace: string;
  let otherNamespace: string;

  const create = (
    name: string,
    image: string,
    replicas = 1,
    labels: Record<string, string> = {},
    ns = namespace,
  ) =>
    admin.apps.createNamespacedDeployment({
      namespace: ns,
      body: testDeployment(name, image, replicas, labels),
    });
  const rolledOut = (name: string) =>
    eventually(`rollout of ${name}`, async () => {
      const progress = await readRolloutProgress(admin, { namespace, name });
      return progress.status.phase === 'complete' ? progress : undefined;
    });

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'deploy');
    otherNamespace = await testNamespace(admin, 'deploy-other');
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await deleteNamespace(admin, otherNamespace);
  });

  it('lists Deployments by label across namespaces', async () => {
    // Prepare
    const label = { 'm2.test/list': namespace };
    await create('consumer-a', 'magento:2.4.8', 0, label);
    await create('consumer-b', 'magento:2.4.8', 0, label, otherNamespace);
    await create('unlabelled', 'magento:2.4.8', 0);

    // Act
    const found = await listDeploymentsByLabel(admin, `m2.test/list=${namespace}`);

    // Assess
    expect(found.map((d) => `${d.metadata?.namespace}/${d.metadata?.name}`).sort()).toEqual(
      [`${namespace}/consumer-a`, `${otherNamespace}/consumer-b`].sort(),
    );
  });

  it('throws NotFoundError for a missing Deployment', async () => {
    await expect(readDeployment(admin, { namespace, name: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('scales through the scale subresource, and KWOK brings the pods up Ready in three zones', async () => {
    // Prepare
    await create('web', 'magento:2.4.8', 1);

    // Act
    const update = await updateScale(admin, { namespace, name: 'web' }, () => 3);
    const progress = await rolledOut('web');

    // Assess
    expect(update).toMatchObject({ changed: true, previousReplicas: 1, scale: { replicas: 3 } });
    expect(progress.newPods).toHaveLength(3);
    expect(progress.newPods.every((p) => p.ready && p.phase === 'Running')).toBe(true);
  });

  it('refuses a scale write with a stale resourceVersion (ConflictError)', async () => {
    // Prepare
    await create('stale', 'magento:2.4.8', 0);
    const read = await readScale(admin, { namespace, name: 'stale' });
    // Any later write makes `read` stale (the Deployment controller's status updates do too).
    await updateScale(admin, { namespace, name: 'stale' }, () => 1);

    // Act
    const stale = writeScale(admin, { namespace, name: 'stale' }, 2, read.resourceVersion);

    // Assess
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    expect((await readScale(admin, { namespace, name: 'stale' })).replicas).toBe(1);
  });

  it('loses no update when two writers increment the same scale concurrently', async () => {
    // Prepare
    await create('contended', 'magento:2.4.8', 0);
    const ref = { namespace, name: 'contended' };
    const increments = 8;
    const writer = async () => {
      for (let i = 0; i < increments; i++) await updateScale(admin, ref, (s) => s.replicas + 1, 50);
    };

    // Act
    await Promise.all([writer(), writer()]);

    // Assess
    expect((await readScale(admin, ref)).replicas).toBe(2 * increments);
  });

  it('patches one container image by strategic merge and the rollout completes with it', async () => {
    // Prepare
    await create('image', 'magento:2.4.7', 2);
    await rolledOut('image');

    // Act
    const patched = await patchDeployment(
      admin,
      { namespace, name: 'image' },
      imagePatch('php', 'magento:2.4.8'),
    );
    const progress = await rolledOut('image');

    // Assess
    expect(patched.spec?.template.spec?.containers.map((c) => [c.name, c.image])).toEqual([
      ['php', 'magento:2.4.8'],
      ['nginx', 'nginx:1.27'],
    ]);
    expect(progress.status.revision).toBe('2');
    expect(progress.newPods.map((p) => p.images[0])).toEqual(['magento:2.4.8', 'magento:2.4.8']);
    // Old pods may still be terminating (kubectl counts the rollout complete without them).
    expect(progress.oldPods.every((p) => p.terminating)).toBe(true);
  });

  it('applies a conditional patch only at the resourceVersion it was based on', async () => {
    // Prepare
    await create('conditional', 'magento:2.4.7', 0);
    const before = await readDeployment(admin, { namespace, name: 'conditional' });
    await patchDeployment(
      admin,
      { namespace, name: 'conditional' },
      { metadata: { labels: { touched: 'yes' } } },
    );

    // Act
    const stale = patchDeployment(
      admin,
      { namespace, name: 'conditional' },
      {
        metadata: { resourceVersion: before.metadata?.resourceVersion, labels: { touched: 'again' } },
      },
    );

    // Assess
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
  });

  it.each([
    ['crashloop', 'CrashLoopBackOff'],
    ['pull-error', 'ImagePullBackOff'],
  ])('reports a %s image with its waiting reason and never completes', async (marker, reason) => {
    // Prepare
    const name = `broken-${marker}`;
    await create(name, 'magento:2.4.7', 1);
    await rolledOut(name);

    // Act
    await patchDeployment(admin, { namespace, name }, imagePatch('php', `magento:2.4.8-${marker}`));
    const progress = await eventually(`${reason} on the new pod of ${name}`, async () => {
      const p = await readRolloutProgress(admin, { namespace, name });
      return p.newPods.some((pod) => pod.waiting.some((w) => w.reason === reason)) ? p : undefined;
    });

    // Assess
    expect(progress.status.phase).toBe('progressing');
    expect(progress.newPods.every(isPodFailing)).toBe(true);
    expect(progress.oldPods.every((p) => p.ready)).toBe(true);
  });

  it('shows a rising restart count for a crash-looping container', async () => {
    // Prepare
    await create('restarts', 'magento:crashloop', 1);
    const restarts = async () =>
      (await readRolloutProgress(admin, { namespace, name: 'restarts' })).newPods[0]?.restarts;
    const first = await eventually('a first restart', async () =>
      ((await restarts()) ?? 0) >= 1 ? restarts() : undefined,
    );

    // Act + Assess
    const later = await eventually('a later restart', async () => {
      const now = (await restarts()) ?? 0;
      return now > (first ?? 0) ? now : undefined;
    });
    expect(later).toBeGreaterThan(first ?? 0);
  });

  it('reports a never-ready image as Running but not Ready', async () => {
    // Prepare
    await create('never', 'magento:never-ready', 1);

    // Act
    const progress = await eventually('a running pod', async () => {
      const p = await readRolloutProgress(admin, { namespace, name: 'never' });
      return p.newPods.some((pod) => pod.phase === 'Running') ? p : undefined;
    });

    // Assess
    expect(progress.newPods[0]).toMatchObject({ phase: 'Running', ready: false, restarts: 0, waiting: [] });
    expect(progress.status).toMatchObject({ phase: 'progressing', availableReplicas: 0 });
  });
});
