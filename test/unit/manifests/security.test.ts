import type { V1NetworkPolicy, V1ServiceAccount } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  containersOf,
  find,
  kustomizations,
  ofKind,
  render,
  selects,
  shopOverlays,
  workloads,
} from '../../helpers/manifests.ts';

const overlay = shopOverlays[0];
const objects = () => render(overlay).objects;
const containers = () =>
  workloads(objects()).flatMap((w) => containersOf(w.spec).map((c) => ({ workload: w, container: c })));
const containerCases = containers().map(
  ({ workload, container }) => [`${workload.name}/${container.name}`, workload.component] as const,
);
const containerNamed = (id: string) => {
  const found = containers().find(({ workload, container }) => `${workload.name}/${container.name}` === id);
  if (found === undefined) throw new Error(`${id} is not rendered`);
  return found;
};

/** Components whose containers run on a read-only root filesystem (cron and migration write the code tree). */
const readOnlyComponents = ['web', 'consumer'];

describe.each(workloads(objects()).map((w) => w.name))('pod of %s', (name) => {
  const pod = () => {
    const found = workloads(objects()).find((w) => w.name === name);
    if (found === undefined) throw new Error(`${name} is not rendered`);
    return found.spec;
  };

  it('runs as a non-root user with the runtime default seccomp profile', () => {
    // Act
    const context = pod().securityContext;

    // Assess
    expect(context?.runAsNonRoot).toBe(true);
    expect(context?.runAsUser).toBeGreaterThan(0);
    expect(context?.seccompProfile?.type).toBe('RuntimeDefault');
  });

  it('uses the shop ServiceAccount without a Kubernetes API token', () => {
    expect(pod().serviceAccountName).toBe('m2-app');
    expect(pod().automountServiceAccountToken).toBe(false);
  });
});

describe.each(containerCases)('container %s (%s)', (id, component) => {
  const container = () => containerNamed(id).container;

  it('cannot escalate privileges and holds no capabilities', () => {
    // Act
    const context = container().securityContext;

    // Assess
    expect(context?.allowPrivilegeEscalation).toBe(false);
    expect(context?.privileged ?? false).toBe(false);
    expect(context?.capabilities?.drop).toEqual(['ALL']);
    expect(context?.capabilities?.add ?? []).toEqual([]);
  });

  it(`has a ${readOnlyComponents.includes(component) ? 'read-only' : 'writable (documented)'} root filesystem`, () => {
    expect(container().securityContext?.readOnlyRootFilesystem).toBe(readOnlyComponents.includes(component));
  });

  it('requests and limits CPU and memory', () => {
    // Act
    const { requests, limits } = container().resources ?? {};

    // Assess
    for (const resource of ['cpu', 'memory']) {
      expect(requests?.[resource], `requests.${resource}`).toBeDefined();
      expect(limits?.[resource], `limits.${resource}`).toBeDefined();
    }
  });

  it('runs a pinned release image', () => {
    // Act
    const image = container().image ?? '';

    // Assess
    expect(image).toMatch(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/);
    expect(image).not.toMatch(/:latest$/);
  });
});

describe('images everywhere', () => {
  it.each(kustomizations)('%s never uses a latest or untagged image', (kustomization) => {
    // Act
    const images = [...render(kustomization).yaml.matchAll(/^\s*image:\s*(\S+)\s*$/gm)].map(
      (m) => m[1] ?? '',
    );

    // Assess
    expect(images.filter((i) => i.endsWith(':latest') || !/[:@]/.test(i.split('/').at(-1) ?? ''))).toEqual(
      [],
    );
  });
});

describe('ServiceAccount m2-app', () => {
  it('carries the shop’s own IRSA role for S3 media', () => {
    // Act
    const role = find<V1ServiceAccount>(objects(), 'ServiceAccount', 'm2-app').metadata?.annotations?.[
      'eks.amazonaws.com/role-arn'
    ];

    // Assess
    expect(role).toMatch(/^arn:aws:iam::\d{12}:role\/m2-example-shop-media$/);
  });

  it.each(shopOverlays)('%s commits no Secret', (o) => {
    expect(ofKind(render(o).objects, 'Secret')).toEqual([]);
  });
});

describe('NetworkPolicies', () => {
  const policies = () => ofKind<V1NetworkPolicy>(objects(), 'NetworkPolicy');
  const podLabels = (component: string) =>
    workloads(objects()).find((w) => w.component === component)?.template.metadata?.labels;

  it('deny all ingress and egress by default', () => {
    // Act
    const deny = find<V1NetworkPolicy>(objects(), 'NetworkPolicy', 'm2-default-deny');

    // Assess
    expect(deny.spec?.podSelector).toEqual({});
    expect(deny.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.spec?.ingress).toBeUndefined();
    expect(deny.spec?.egress).toBeUndefined();
  });

  it('admit ingress only to web pods, only on the nginx port', () => {
    // Act
    const ingressPolicies = policies().filter((p) => (p.spec?.ingress ?? []).length > 0);

    // Assess
    expect(ingressPolicies.map((p) => p.metadata?.name)).toEqual(['m2-web-from-alb']);
    for (const component of ['consumer', 'cron', 'migration']) {
      expect(selects(ingressPolicies[0]?.spec?.podSelector ?? {}, podLabels(component))).toBe(false);
    }
    expect(selects(ingressPolicies[0]?.spec?.podSelector ?? {}, podLabels('web'))).toBe(true);
    expect(ingressPolicies[0]?.spec?.ingress?.flatMap((r) => r.ports?.map((p) => p.port))).toEqual([8080]);
  });

  it('open database and cache ports towards the data subnets only', () => {
    // Prepare
    const dataPorts = [3306, 6379];

    // Act
    const rules = policies().flatMap((p) =>
      (p.spec?.egress ?? []).filter((r) =>
        (r.ports ?? []).some((port) => dataPorts.includes(Number(port.port))),
      ),
    );

    // Assess
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      for (const peer of rule.to ?? []) expect(peer.ipBlock?.cidr).not.toBe('0.0.0.0/0');
    }
  });
});
