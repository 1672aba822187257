import { describe, expect, it } from 'vitest';
import {
  bytesOf,
  containersOf,
  placeholderCidrs,
  placeholdersIn,
  render,
  shopOverlays,
  workloads,
} from '../../helpers/manifests.ts';

/** What a container writes besides its emptyDirs: its log and, read-only root or not, a writable layer. */
const perContainerHeadroom = 128 * 2 ** 20;

describe('the NetworkPolicy CIDRs of each VPC', () => {
  it('are placeholders in the base, routed nowhere', () => {
    expect(placeholdersIn(render('base').objects).sort()).toEqual([...placeholderCidrs].sort());
  });

  it.each(shopOverlays)('%s sets every one of them', (overlay) => {
    expect(placeholdersIn(render(overlay).objects)).toEqual([]);
  });
});

describe.each(shopOverlays)('%s: ephemeral storage', (overlay) => {
  const pods = () => workloads(render(overlay).objects);

  it.each(pods().map((w) => w.name))('%s bounds every emptyDir', (name) => {
    const pod = pods().find((w) => w.name === name);
    for (const volume of pod?.spec.volumes ?? []) {
      if (volume.emptyDir !== undefined) expect(volume.emptyDir.sizeLimit, volume.name).toBeDefined();
    }
  });

  it.each(pods().map((w) => w.name))(
    '%s requests and limits ephemeral storage in every container, the limits covering its emptyDirs',
    (name) => {
      const pod = pods().find((w) => w.name === name);
      const containers = containersOf(pod?.spec ?? { containers: [] });
      expect(containers.length).toBeGreaterThan(0);
      let limits = 0;
      for (const c of containers) {
        const request = bytesOf(c.resources?.requests?.['ephemeral-storage']);
        const limit = bytesOf(c.resources?.limits?.['ephemeral-storage']);
        expect(request, c.name).toBeGreaterThan(0);
        expect(request, c.name).toBeLessThanOrEqual(limit);
        limits += limit;
      }
      // The kubelet evicts a pod whose emptyDirs, logs and writable layers together pass the sum of its
      // containers' limits: that sum must hold full emptyDirs plus each container's own headroom.
      const emptyDirs = (pod?.spec.volumes ?? [])
        .filter((v) => v.emptyDir !== undefined && v.emptyDir.medium !== 'Memory')
        .reduce((sum, v) => sum + bytesOf(String(v.emptyDir?.sizeLimit)), 0);
      expect(limits).toBeGreaterThanOrEqual(emptyDirs + perContainerHeadroom * containers.length);
    },
  );
});
