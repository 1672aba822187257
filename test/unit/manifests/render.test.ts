import type { V1Namespace } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { find, kustomizations, ofKind, render, shopOverlays } from '../../helpers/manifests.ts';

describe('kubectl kustomize', () => {
  it.each(kustomizations)('renders %s without warnings', (kustomization) => {
    // Act
    const rendering = render(kustomization);

    // Assess
    expect(rendering.stderr).toBe('');
    expect(rendering.objects.length).toBeGreaterThan(0);
  });

  it.each(shopOverlays)('%s puts every namespaced object into the shop namespace', (overlay) => {
    // Prepare
    const { objects } = render(overlay);
    const [namespace, ...more] = ofKind<V1Namespace>(objects, 'Namespace');
    const shop = namespace?.metadata?.name;

    // Assess
    expect(more).toHaveLength(0);
    expect(shop).toBe(overlay.split('/').at(-1));
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(shop);
      expect(o.metadata.labels?.['app.kubernetes.io/instance'], `${o.kind}/${o.metadata.name}`).toBe(shop);
      expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('magento');
    }
  });

  it.each(shopOverlays)(
    '%s labels its namespace for ALB pod readiness gates and restricted pods',
    (overlay) => {
      // Prepare
      const { objects } = render(overlay);
      const shop = overlay.split('/').at(-1) ?? '';

      // Act
      const labels = find<V1Namespace>(objects, 'Namespace', shop).metadata?.labels;

      // Assess
      expect(labels?.['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
      expect(labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    },
  );

  it('keeps cluster-scoped objects out of the shop overlays and shop objects out of the platform', () => {
    // Prepare
    const clusterScoped = [
      'ClusterRole',
      'ClusterRoleBinding',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ];

    // Act
    const platformKinds = new Set(render('platform').objects.map((o) => o.kind));
    const shopKinds = new Set(shopOverlays.flatMap((o) => render(o).objects.map((x) => x.kind)));

    // Assess
    expect([...platformKinds].every((k) => clusterScoped.includes(k))).toBe(true);
    expect([...shopKinds].some((k) => clusterScoped.includes(k))).toBe(false);
  });
});
