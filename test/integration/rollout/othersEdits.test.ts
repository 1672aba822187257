import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutResult } from '../../../lib/rollout/executor.ts';
import { rolloutAnnotations, type TargetSnapshot, updateTarget } from '../../../lib/rollout/targets.ts';
import { eventually, roleArns, roleCluster, type TestCluster } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectl } from '../manifests/cluster.ts';
import {
  applyShop,
  deleteShop,
  imagesOf,
  initialImage,
  invokeRollout,
  newJobId,
  recordedResult,
  repository,
  shopNamespace,
  templateOf,
} from './rolloutFixture.ts';

let rollout: TestCluster;
const namespaces: string[] = [];
const hotfix = `${repository}:2.4.7-hotfix`;

/** A shop of its own, and a client of the m2:rollout role of its own. */
async function newShop(): Promise<string> {
  const namespace = shopNamespace();
  namespaces.push(namespace);
  await applyShop(namespace);
  rollout = await roleCluster(roleArns.rollout);
  return namespace;
}

/** A release whose web pods never become Ready: it waits (up to `timeoutSeconds`) and then rolls back. */
async function waitingRelease(namespace: string, jobId: string, timeoutSeconds = 30): Promise<RolloutResult> {
  const running = invokeRollout(rollout, {
    id: jobId,
    params: { namespace, imageTag: '2.4.8-never-ready', migrate: 'never', timeoutSeconds },
  });
  let ended: RolloutResult | undefined;
  void running.then((result) => {
    ended = result;
  });
  // Generous: preflight's reads and writes are slow on a loaded machine.
  await eventually(
    'the rollout to patch m2-http',
    async () => {
      if (ended !== undefined) throw new Error(`the rollout ended before patching m2-http: ${ended.message}`);
      return imagesOf(namespace, 'deployment', 'm2-http')[0]?.endsWith('never-ready') ? true : undefined;
    },
    120_000,
  );
  return running;
}

/** The template with every container on `image`: what the rollback must leave, and nothing else changed. */
const withImages = (template: unknown, image: string): V1PodTemplateSpec => {
  const copy = structuredClone(template) as V1PodTemplateSpec;
  for (const c of copy.spec?.containers ?? []) c.image = image;
  return copy;
};

beforeAll(() => {
  embeddedEnv();
});

afterAll(() => {
  for (const namespace of namespaces) deleteShop(namespace);
});

describe('others’ edits during a rollout, on the embedded stack, as m2:rollout', () => {
  it('keeps an env var and a resources change an operator made during the wait through the rollback', async () => {
    // Prepare: the release waits on web; an operator adds an env var to php-fpm and changes nginx's
    // memory limit (kubectl's strategic merge: containers by name).
    const namespace = await newShop();
    const jobId = newJobId();
    const running = waitingRelease(namespace, jobId);
    const edit = {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'php-fpm', env: [{ name: 'PHP_MEMORY_LIMIT', value: '1G' }] },
              { name: 'nginx', resources: { limits: { memory: '300Mi' } } },
            ],
          },
        },
      },
    };
    kubectl(['patch', 'deployment/m2-http', '-n', namespace, '--type=strategic', '-p', JSON.stringify(edit)]);
    const edited = templateOf(namespace, 'deployment', 'm2-http');

    // Act
    const result = await running;

    // Assess: the images are back, and the template is otherwise exactly the operator's.
    expect(result.outcome).toBe('failed');
    expect((await recordedResult(jobId))?.body.failureDetails?.message).toMatch(
      new RegExp(`Rolled back to the recorded images: ${namespace}/deployment/m2-http\\.$`),
    );
    expect(templateOf(namespace, 'deployment', 'm2-http')).toEqual(withImages(edited, initialImage));
    expect(JSON.stringify(edited)).toContain('PHP_MEMORY_LIMIT');
  });

  it('is refused by the apiserver (422) when a tested image changed since the read, then decides again', async () => {
    // Prepare: the first decision is made on a read that an operator's `kubectl set image` then makes stale.
    const namespace = await newShop();
    const seen: string[] = [];
    const decide = (s: TargetSnapshot) => {
      const image = s.template.spec?.containers.find((c) => c.name === 'php-fpm')?.image ?? '';
      seen.push(image);
      if (seen.length === 1)
        kubectl(['set', 'image', 'deployment/m2-http', `php-fpm=${hotfix}`, '-n', namespace]);
      if (image !== initialImage) return undefined;
      return {
        annotations: { [rolloutAnnotations.changeCause]: 'test' },
        images: { initContainers: {}, containers: { 'php-fpm': `${repository}:2.4.8` } },
        condition: 'tested-paths' as const,
      };
    };

    // Act
    await updateTarget(rollout, namespace, { kind: 'Deployment', name: 'm2-http' }, decide);

    // Assess: the operator's image stands; the second decision saw it.
    expect(seen).toEqual([initialImage, hotfix]);
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([initialImage, hotfix]);
  });
});
