import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../../lib/k8s/errors.ts';
import {
  readTarget,
  rolloutAnnotations,
  type TargetSnapshot,
  type TargetWrite,
  targetPatch,
  updateTarget,
} from '../../../lib/rollout/targets.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';

const namespace = 'shop-a';
const web = { kind: 'Deployment', name: 'm2-http' } as const;
const cron = { kind: 'CronJob', name: 'm2-cron' } as const;
const [oldImage, newImage, hotfix] = ['repo/magento:1', 'repo/magento:2', 'repo/magento:1-hotfix'];
const release: TargetWrite = {
  annotations: { [rolloutAnnotations.release]: 'r1' },
  images: { initContainers: {}, containers: { 'php-fpm': newImage } },
  condition: 'object',
};

function shop(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.addDeployment(namespace, 'm2-http', { image: oldImage });
  cluster.addCronJob(namespace, 'm2-cron', oldImage);
  return cluster;
}

/** Someone else's edit, as `kubectl patch` sends it (strategic merge: containers merge by name). */
const edit = (cluster: FakeCluster, container: object) =>
  cluster.patchDeployment(
    { namespace, name: 'm2-http' },
    { type: 'strategic', document: { spec: { template: { spec: { containers: [container] } } } } },
  );

describe('targetPatch', () => {
  const snapshot = (ref: TargetSnapshot['ref'], annotations?: Record<string, string>): TargetSnapshot => ({
    ref,
    resourceVersion: '42',
    template: {
      spec: {
        containers: [
          { name: 'nginx', image: oldImage },
          { name: 'php-fpm', image: oldImage },
        ],
      },
    },
    annotations: annotations ?? {},
    hasAnnotations: annotations !== undefined,
  });

  it('sends the resourceVersion, tests on the container’s name and old image, then the new image and annotations', () => {
    expect(targetPatch(snapshot(web, { a: 'b' }), release)).toEqual([
      { op: 'add', path: '/metadata/resourceVersion', value: '42' },
      { op: 'test', path: '/spec/template/spec/containers/1/name', value: 'php-fpm' },
      { op: 'test', path: '/spec/template/spec/containers/1/image', value: oldImage },
      { op: 'replace', path: '/spec/template/spec/containers/1/image', value: newImage },
      { op: 'add', path: '/metadata/annotations/rollout.m2-eks-pipeline.io~1release', value: 'r1' },
    ]);
  });

  it('addresses a CronJob’s containers through its jobTemplate, and adds the annotations map when there is none', () => {
    const write: TargetWrite = {
      images: { initContainers: {}, containers: { nginx: newImage } },
      expectAnnotations: {},
      condition: 'tested-paths',
    };
    expect(targetPatch(snapshot(cron), write)).toEqual([
      { op: 'test', path: '/spec/jobTemplate/spec/template/spec/containers/0/name', value: 'nginx' },
      { op: 'test', path: '/spec/jobTemplate/spec/template/spec/containers/0/image', value: oldImage },
      { op: 'replace', path: '/spec/jobTemplate/spec/template/spec/containers/0/image', value: newImage },
      { op: 'add', path: '/metadata/annotations', value: {} },
    ]);
  });

  it('guards a tested-paths write by the annotations it rests on instead of the resourceVersion', () => {
    const write: TargetWrite = {
      annotations: { [rolloutAnnotations.release]: 'r1-rolled-back' },
      removeAnnotations: [rolloutAnnotations.recordedTemplate],
      expectAnnotations: { [rolloutAnnotations.release]: 'r1' },
      condition: 'tested-paths',
    };
    expect(targetPatch(snapshot(web, { [rolloutAnnotations.release]: 'r1' }), write)).toEqual([
      { op: 'test', path: '/metadata/annotations/rollout.m2-eks-pipeline.io~1release', value: 'r1' },
      {
        op: 'add',
        path: '/metadata/annotations/rollout.m2-eks-pipeline.io~1release',
        value: 'r1-rolled-back',
      },
      { op: 'remove', path: '/metadata/annotations/rollout.m2-eks-pipeline.io~1recorded-template' },
    ]);
  });

  it('refuses to write the image of a container the template does not have', () => {
    const write: TargetWrite = {
      images: { initContainers: {}, containers: { cron: newImage } },
      condition: 'object',
    };
    expect(() => targetPatch(snapshot(web), write)).toThrow(/no containers entry cron/);
  });
});

describe('updateTarget', () => {
  it('keeps what someone else changed elsewhere in the template while it writes an image', async () => {
    // Prepare: an env var and resources set by hand, and a field this client has no model for.
    const cluster = shop();
    await edit(cluster, {
      name: 'php-fpm',
      env: [{ name: 'MAGE_MODE', value: 'production' }],
      resources: { limits: { memory: '1Gi' } },
      futureField: { kept: true },
    });

    // Act
    await updateTarget(cluster, namespace, web, () => release);

    // Assess
    const container = cluster.object('deployments', namespace, 'm2-http')?.spec?.template.spec?.containers[1];
    expect(container).toEqual({
      name: 'php-fpm',
      image: newImage,
      env: [{ name: 'MAGE_MODE', value: 'production' }],
      resources: { limits: { memory: '1Gi' } },
      futureField: { kept: true },
    });
    expect(cluster.images('deployments', namespace, 'm2-http')).toEqual([oldImage, newImage]);
  });

  it('decides again on a fresh read when someone else set the image between its read and its write', async () => {
    // Prepare: the first decision is made on a read that the hotfix then makes stale.
    const cluster = shop();
    const seen: string[] = [];
    const decide = (s: TargetSnapshot): TargetWrite | undefined => {
      const image = s.template.spec?.containers[1]?.image ?? '';
      seen.push(image);
      if (seen.length === 1) void edit(cluster, { name: 'php-fpm', image: hotfix });
      return image === oldImage ? { ...release, condition: 'tested-paths' } : undefined;
    };

    // Act
    await updateTarget(cluster, namespace, web, decide);

    // Assess: the test on the old image refused the write; the second decision saw the hotfix.
    expect(seen).toEqual([oldImage, hotfix]);
    expect(cluster.images('deployments', namespace, 'm2-http')).toEqual([oldImage, hotfix]);
  });

  it('is not stopped by a change elsewhere when only the tested paths guard it', async () => {
    // Prepare: someone else's annotation lands between the read and the write.
    const cluster = shop();
    let decisions = 0;
    const decide = (): TargetWrite => {
      decisions++;
      if (decisions === 1) {
        void cluster.patchDeployment(
          { namespace, name: 'm2-http' },
          { type: 'merge', document: { metadata: { annotations: { 'example.com/note': 'x' } } } },
        );
      }
      return { ...release, condition: 'tested-paths' };
    };

    // Act
    await updateTarget(cluster, namespace, web, decide);

    // Assess
    expect(decisions).toBe(1);
    const target = await readTarget(cluster, namespace, web);
    expect(target.annotations).toMatchObject({ 'example.com/note': 'x', [rolloutAnnotations.release]: 'r1' });
    expect(cluster.images('deployments', namespace, 'm2-http')).toEqual([oldImage, newImage]);
  });

  it('gives up after re-reading when the tests keep failing', async () => {
    // Prepare: a decision that insists on a release annotation the target does not carry.
    const cluster = shop();
    let decisions = 0;
    const stale = (): TargetWrite => {
      decisions++;
      return {
        ...release,
        condition: 'tested-paths',
        expectAnnotations: { [rolloutAnnotations.release]: 'r1' },
      };
    };
    await cluster.patchDeployment(
      { namespace, name: 'm2-http' },
      { type: 'merge', document: { metadata: { annotations: { [rolloutAnnotations.release]: 'r0' } } } },
    );

    // Act
    const write = updateTarget(cluster, namespace, web, stale, 2);

    // Assess
    await expect(write).rejects.toBeInstanceOf(InvalidError);
    expect(decisions).toBe(3);
    expect(cluster.images('deployments', namespace, 'm2-http')).toEqual([oldImage, oldImage]);
  });
});
