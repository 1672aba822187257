import { describe, expect, it } from 'vitest';
import type { ContainerImages } from '../../../lib/rollout/recordedImages.ts';
import { notRestoredReason, restoredImages, restorePlan } from '../../../lib/rollout/restorePlan.ts';

const previous = 'repo/magento:1';
const released = 'repo/magento:2';
const recorded = {
  initContainers: { warmup: previous },
  containers: { nginx: previous, 'php-fpm': previous },
};
/** What the template runs now: web's two containers, its init container and a sidecar of another image. */
const running = (
  nginx: string | undefined,
  phpFpm: string | undefined,
  warmup: string | undefined = released,
): ContainerImages => {
  const containers: Record<string, string> = { sidecar: 'fluent/fluent-bit:3' };
  if (nginx !== undefined) containers.nginx = nginx;
  if (phpFpm !== undefined) containers['php-fpm'] = phpFpm;
  return { initContainers: warmup === undefined ? {} : { warmup }, containers };
};

describe('restorePlan', () => {
  it.each([
    [
      'every container still on the release',
      running(released, released),
      false,
      ['restore', 'restore', 'restore'],
    ],
    [
      'one set to a hotfix by someone else',
      running('repo/magento:hotfix', released),
      false,
      ['restore', 'edited', 'restore'],
    ],
    [
      'one set to another repository',
      running('nginx:1.27', released),
      false,
      ['restore', 'edited', 'restore'],
    ],
    ['one put back by hand', running(previous, released), false, ['restore', 'restored', 'restore']],
    ['one removed from the template', running(undefined, released), false, ['restore', 'gone', 'restore']],
    [
      'already rolled back',
      running(previous, previous, previous),
      true,
      ['restored', 'restored', 'restored'],
    ],
    [
      'already rolled back, then set to the release again',
      running(released, previous, previous),
      true,
      ['restored', 'edited', 'restored'],
    ],
  ])('%s', (_case, current, rolledBack, kinds) => {
    // Act
    const plan = restorePlan(recorded, current, rolledBack ? undefined : released);

    // Assess: init containers first, then containers in recorded order; the sidecar is not the release's.
    expect(plan.map((c) => c.name)).toEqual(['warmup', 'nginx', 'php-fpm']);
    expect(plan.map((c) => c.kind)).toEqual(kinds);
  });

  it('writes the recorded image of exactly the containers still on the release', () => {
    const plan = restorePlan(recorded, running('repo/magento:hotfix', released), released);
    expect(restoredImages(plan)).toEqual({
      initContainers: { warmup: previous },
      containers: { 'php-fpm': previous },
    });
  });
});

describe('notRestoredReason', () => {
  it('is undefined when every container is back on its recorded image', () => {
    expect(notRestoredReason(restorePlan(recorded, running(released, previous), released))).toBeUndefined();
  });

  it('names each container left as it is with its image now, and the ones restored', () => {
    // Prepare
    const current = running('repo/magento:hotfix', 'repo/magento:hotfix');

    // Act
    const reason = notRestoredReason(restorePlan(recorded, current, released));

    // Assess
    expect(reason).toBe(
      'containers nginx, php-fpm not restored: edited by someone else (image now repo/magento:hotfix); container warmup restored',
    );
  });

  it('names a container that is gone', () => {
    const reason = notRestoredReason(restorePlan(recorded, running(undefined, 'nginx:1.27'), released));
    expect(reason).toBe(
      'container php-fpm not restored: edited by someone else (image now nginx:1.27); ' +
        'container nginx not restored: gone from the pod template; container warmup restored',
    );
  });
});
