import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { JsonPatchOperation, Patch } from '../../../lib/k8s/clusterClient.ts';
import type { ObjectRef } from '../../../lib/k8s/objectRef.ts';
import { rolloutAnnotations } from '../../../lib/rollout/targets.ts';
import type { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { FakeJobResults } from './fakes.ts';
import {
  failureOf,
  invoke,
  lastToken,
  namespace,
  newImage,
  newShop,
  oldImage,
  repository,
  type Shop,
} from './shop.ts';

const params = { namespace, imageTag: '2.4.8', migrate: 'never', timeoutSeconds: 30 };
const hotfix = `${repository}:2.4.7-hotfix`;

const webContainers = (shop: Shop): V1Container[] =>
  shop.cluster.object('deployments', namespace, 'm2-http')?.spec?.template.spec?.containers ?? [];

/** A Lambda budget that runs out once `done` holds: the invocation hands over at its next check. */
const until = (done: () => boolean) => () => (done() ? 0 : 15 * 60_000);

/** An operator's edit of m2-http's containers, as `kubectl patch` sends it (containers merge by name). */
const editWeb = (shop: Shop, containers: object[]) =>
  shop.cluster.patchDeployment(
    { namespace, name: 'm2-http' },
    { type: 'strategic', document: { spec: { template: { spec: { containers } } } } },
  );

/** Continues the release from the last hand-over. */
const resume = (shop: Shop, id: string, remainingMs?: () => number) =>
  invoke(shop, { id, params, continuationToken: lastToken(shop)?.raw ?? '' }, remainingMs);

describe('the rollout writes only images, so others’ edits survive it', () => {
  it('keeps an env var and a resources change made during the release through the release and its rollback', async () => {
    // Prepare: web's new pods never become Ready; the release hands over after preflight and again
    // once web is patched, and an operator edits web each time.
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-http');
    const recorded = () =>
      rolloutAnnotations.recorded in shop.cluster.annotations('deployments', namespace, 'm2-http');
    expect((await invoke(shop, { id: 'release-1', params }, until(recorded))).outcome).toBe('continued');
    await editWeb(shop, [{ name: 'php-fpm', env: [{ name: 'PHP_MEMORY_LIMIT', value: '1G' }] }]);
    const webPatched = () => webContainers(shop)[0]?.image === newImage;
    expect((await resume(shop, 'continuation-1', until(webPatched))).outcome).toBe('continued');
    expect(webContainers(shop)[1]?.env).toEqual([{ name: 'PHP_MEMORY_LIMIT', value: '1G' }]);
    await editWeb(shop, [{ name: 'nginx', resources: { limits: { memory: '256Mi' } } }]);

    // Act
    const result = await resume(shop, 'continuation-2');

    // Assess
    expect(result.outcome).toBe('failed');
    expect(failureOf(shop, 'continuation-2')).toMatch(
      /Rolled back to the recorded images: shop-a\/deployment\/m2-http\.$/,
    );
    expect(webContainers(shop)).toEqual([
      { name: 'nginx', image: oldImage, resources: { limits: { memory: '256Mi' } } },
      { name: 'php-fpm', image: oldImage, env: [{ name: 'PHP_MEMORY_LIMIT', value: '1G' }] },
    ]);
  });

  it('restores only the containers still on the release’s image and names the one someone else changed', async () => {
    // Prepare: web is patched and waited on when an operator hotfixes nginx.
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-http');
    const webPatched = () => webContainers(shop)[0]?.image === newImage;
    expect((await invoke(shop, { id: 'release-1', params }, until(webPatched))).outcome).toBe('continued');
    await editWeb(shop, [{ name: 'nginx', image: hotfix }]);

    // Act
    const result = await resume(shop, 'continuation-1');

    // Assess
    expect(result.outcome).toBe('failed');
    expect(webContainers(shop).map((c) => c.image)).toEqual([hotfix, oldImage]);
    expect(failureOf(shop, 'continuation-1')).toContain(
      'NOT rolled back: shop-a/deployment/m2-http (container nginx not restored: edited by someone else ' +
        `(image now ${hotfix}); container php-fpm restored).`,
    );
    expect(shop.cluster.annotations('deployments', namespace, 'm2-http')[rolloutAnnotations.release]).toBe(
      'release-1-rolled-back',
    );
  });

  it('names the containers it restored and the one it left when the Lease fails after the rollback', async () => {
    // Prepare: as above, and once the rollback has written web, the Lease cannot be read any more.
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-http');
    const webPatched = () => webContainers(shop)[0]?.image === newImage;
    expect((await invoke(shop, { id: 'release-1', params }, until(webPatched))).outcome).toBe('continued');
    await editWeb(shop, [{ name: 'nginx', image: hotfix }]);
    const rolledBackWeb = (p: Patch) =>
      p.type === 'json' && p.operations.some((o) => o.value === 'release-1-rolled-back');
    const failingLease = withPatchHook(shop.cluster, (p) => {
      if (rolledBackWeb(p)) shop.cluster.fail({ verb: 'get', resource: 'leases', status: 503, times: 100 });
    });

    // Act
    const result = await invoke(
      { cluster: failingLease, results: shop.results },
      { id: 'continuation-1', params, continuationToken: lastToken(shop)?.raw ?? '' },
    );

    // Assess
    expect(result.outcome).toBe('failed');
    expect(failureOf(shop, 'continuation-1')).toMatch(/stopped in phase failure: get leases.*503/);
    expect(failureOf(shop, 'continuation-1')).toContain(
      'NOT rolled back: shop-a/deployment/m2-http (container nginx not restored: edited by someone else ' +
        `(image now ${hotfix}); container php-fpm restored).`,
    );
    expect(failureOf(shop, 'continuation-1')).not.toMatch(/Left on the new image/);
  });

  it('rolls back a release recorded as whole templates before images were recorded', async () => {
    // Prepare: release-1 patched web and the consumers; then its records are rewritten as the earlier
    // code left them (recorded-template: the whole pod template before the release).
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-consumer-media');
    const mediaPatched = () =>
      shop.cluster.images('deployments', namespace, 'm2-consumer-media')[0] === newImage;
    expect((await invoke(shop, { id: 'release-1', params }, until(mediaPatched))).outcome).toBe('continued');
    for (const name of ['m2-http', 'm2-consumer-export', 'm2-consumer-media']) {
      await asRecordedBefore(shop.cluster, name);
    }

    // Act
    const result = await resume(shop, 'continuation-1');

    // Assess
    expect(result.outcome).toBe('failed');
    expect(failureOf(shop, 'continuation-1')).toMatch(
      /Rolled back to the recorded images: shop-a\/deployment\/m2-consumer-media, shop-a\/deployment\/m2-consumer-export, shop-a\/deployment\/m2-http\.$/,
    );
    for (const name of ['m2-http', 'm2-consumer-export', 'm2-consumer-media']) {
      expect(shop.cluster.images('deployments', namespace, name)).toEqual([oldImage, oldImage]);
    }
  });

  it('records images on a target a release before recorded as a whole template, dropping that record', async () => {
    // Prepare: m2-http carries the record an earlier release (release-0) left in the earlier format.
    const shop = newShop();
    await shop.cluster.patchDeployment(
      { namespace, name: 'm2-http' },
      {
        type: 'merge',
        document: {
          metadata: {
            annotations: {
              [rolloutAnnotations.recordedTemplate]: JSON.stringify({ release: 'release-0', template: {} }),
            },
          },
        },
      },
    );

    // Act
    const result = await invoke(shop, { id: 'release-1', params });

    // Assess
    expect(result.outcome).toBe('succeeded');
    const annotations = shop.cluster.annotations('deployments', namespace, 'm2-http');
    expect(annotations[rolloutAnnotations.recordedTemplate]).toBeUndefined();
    expect(JSON.parse(annotations[rolloutAnnotations.recorded] ?? '{}')).toEqual({
      release: 'release-1',
      initContainers: {},
      containers: { nginx: oldImage, 'php-fpm': oldImage },
    });
  });

  it('sends JSON patches of images and annotations only, never a pod template', async () => {
    // Prepare: every patch the rollout sends is kept.
    const shop = newShop();
    const patches: Patch[] = [];
    const recording = withPatchHook(shop.cluster, (p) => patches.push(p));
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-consumer-media');

    // Act: a release that patches web and both consumers, then rolls them back.
    const result = await invoke(
      { cluster: recording, results: new FakeJobResults() },
      { id: 'release-1', params },
    );

    // Assess
    expect(result.outcome).toBe('failed');
    // A merge or strategic patch would carry a document, not paths: it counts as a forbidden write.
    const operations = patches.flatMap((p): JsonPatchOperation[] =>
      p.type === 'json' ? [...p.operations] : [{ op: 'replace', path: `(a ${p.type} patch)` }],
    );
    expect(operations.length).toBeGreaterThan(0);
    for (const o of operations) {
      const image = /^\/spec\/template\/spec\/(initContainers|containers)\/\d+\/image$/.test(o.path);
      const containerName = /^\/spec\/template\/spec\/(initContainers|containers)\/\d+\/name$/.test(o.path);
      const metadata = /^\/metadata\/(resourceVersion|annotations(\/[^/]+)?)$/.test(o.path);
      expect(
        (o.op === 'replace' && image) ||
          (o.op === 'test' && (image || containerName || metadata)) ||
          (o.op === 'add' && metadata) ||
          (o.op === 'remove' && metadata),
        `${o.op} ${o.path}`,
      ).toBe(true);
    }
  });
});

/** Rewrites a target's record into the format of releases made before images were recorded. */
async function asRecordedBefore(cluster: FakeCluster, name: string): Promise<void> {
  const object = cluster.object('deployments', namespace, name);
  const template = structuredClone(object?.spec?.template ?? {});
  for (const c of template.spec?.containers ?? []) c.image = oldImage;
  await cluster.patchDeployment(
    { namespace, name },
    {
      type: 'merge',
      document: {
        metadata: {
          annotations: {
            [rolloutAnnotations.recorded]: null,
            [rolloutAnnotations.recordedTemplate]: JSON.stringify({ release: 'release-1', template }),
          },
        },
      },
    },
  );
}

/** The cluster, calling `onPatch` with every Deployment and CronJob patch before it is applied. */
function withPatchHook(cluster: FakeCluster, onPatch: (patch: Patch) => void): FakeCluster {
  return new Proxy(cluster, {
    get(target, property) {
      if (property === 'patchDeployment') {
        return (ref: ObjectRef, patch: Patch) => {
          onPatch(patch);
          return target.patchDeployment(ref, patch);
        };
      }
      if (property === 'patchCronJob') {
        return (ref: ObjectRef, patch: Patch) => {
          onPatch(patch);
          return target.patchCronJob(ref, patch);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
