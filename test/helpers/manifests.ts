import { spawnSync } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import type {
  V1ClusterRole,
  V1ConfigMap,
  V1Container,
  V1CronJob,
  V1Deployment,
  V1PodSpec,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** Root of the kustomize tree. */
export const manifestsDir = join(import.meta.dirname, '..', '..', 'k8s-manifests');

/** The kustomizations `kubectl kustomize` must render, relative to {@link manifestsDir}. */
export const kustomizations = ['base', 'platform', 'overlays/example-shop'] as const;
/** Every shop overlay (one shop = one namespace). */
export const shopOverlays = ['overlays/example-shop'] as const;

/** Any rendered Kubernetes object: the fields every kind has, the rest left to the kind's type. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** What `kubectl kustomize` printed for one kustomization. */
export interface Rendering {
  readonly yaml: string;
  readonly stderr: string;
  readonly objects: readonly KubeObject[];
}

const cache = new Map<string, Rendering>();

/**
 * Renders a kustomization with `kubectl kustomize` and parses every document (cached per directory).
 * A relative path is taken below {@link manifestsDir}; an absolute one (a test's own overlay) as it is.
 */
export function render(kustomization: string): Rendering {
  const cached = cache.get(kustomization);
  if (cached !== undefined) return cached;
  const dir = isAbsolute(kustomization) ? kustomization : join(manifestsDir, kustomization);
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`kubectl kustomize ${kustomization} failed (${result.status}): ${result.stderr}`);
  }
  const objects = parseAllDocuments(result.stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${kustomization}: ${doc.errors[0]?.message}`);
    return doc.toJS() as KubeObject;
  });
  const rendering = { yaml: result.stdout, stderr: result.stderr, objects };
  cache.set(kustomization, rendering);
  return rendering;
}

/** The one object of a kind and name; throws when it is missing, so a test cannot pass vacuously. */
export function find<T>(objects: readonly KubeObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`${kind}/${name} is not rendered`);
  return found as unknown as T;
}

/** All objects of a kind, typed. */
export function ofKind<T>(objects: readonly KubeObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

/** A workload that runs pods, with its pod template. */
export interface Workload {
  readonly kind: string;
  readonly name: string;
  readonly component: string;
  readonly template: V1PodTemplateSpec;
  readonly spec: V1PodSpec;
}

/** Every pod template in a rendering: Deployments, and the Jobs CronJobs create. */
export function workloads(objects: readonly KubeObject[]): Workload[] {
  const result: Workload[] = [];
  for (const d of ofKind<V1Deployment>(objects, 'Deployment')) {
    const template = d.spec?.template;
    if (template?.spec === undefined) throw new Error(`Deployment ${d.metadata?.name} has no pod spec`);
    result.push(workload('Deployment', d.metadata?.name, template, template.spec));
  }
  for (const c of ofKind<V1CronJob>(objects, 'CronJob')) {
    const template = c.spec?.jobTemplate.spec?.template;
    if (template?.spec === undefined) throw new Error(`CronJob ${c.metadata?.name} has no pod spec`);
    result.push(workload('CronJob', c.metadata?.name, template, template.spec));
  }
  return result;
}

function workload(
  kind: string,
  name: string | undefined,
  template: V1PodTemplateSpec,
  spec: V1PodSpec,
): Workload {
  const component = template.metadata?.labels?.['app.kubernetes.io/component'];
  if (name === undefined || component === undefined)
    throw new Error(`${kind} ${name} lacks a component label`);
  return { kind, name, component, template, spec };
}

/** All containers of a pod spec, init containers included. */
export const containersOf = (spec: V1PodSpec): V1Container[] => [
  ...(spec.initContainers ?? []),
  ...spec.containers,
];

/** A ConfigMap's data by its generator name (kustomize appends a content hash to the name). */
export function configMapData(objects: readonly KubeObject[], generatorName: string): Record<string, string> {
  const matches = ofKind<V1ConfigMap>(objects, 'ConfigMap').filter((c) =>
    new RegExp(`^${generatorName}-[a-z0-9]{10}$`).test(c.metadata?.name ?? ''),
  );
  const [only] = matches;
  if (only?.data === undefined || matches.length !== 1)
    throw new Error(`ConfigMap ${generatorName}-<hash> not found once`);
  return only.data;
}

/** Whether a label selector's matchLabels/matchExpressions select a label set. */
export function selects(
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  },
  labels: Record<string, string> | undefined,
): boolean {
  const have = labels ?? {};
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => have[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const value = have[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return byLabel && byExpression;
}

/** The ClusterRoles of the platform kustomization, by name. */
export function clusterRoles(): Map<string, V1ClusterRole> {
  const roles = ofKind<V1ClusterRole>(render('platform').objects, 'ClusterRole');
  return new Map(roles.map((r) => [r.metadata?.name ?? '', r]));
}

/**
 * The base's NetworkPolicy CIDR placeholders (RFC 5737 documentation ranges, routed nowhere): an
 * overlay must replace them with its VPC's and data subnets' CIDRs.
 */
export const placeholderCidrs = ['192.0.2.0/24', '198.51.100.0/24'] as const;

/** Every ipBlock CIDR of the rendered NetworkPolicies that is one of the base's placeholders. */
export function placeholdersIn(objects: readonly KubeObject[]): string[] {
  // As YAML spells it (`from`; the client's model names it `_from`).
  interface Peers {
    from?: { ipBlock?: { cidr?: string } }[];
    to?: { ipBlock?: { cidr?: string } }[];
  }
  const cidrs = ofKind<{ spec?: { ingress?: Peers[]; egress?: Peers[] } }>(objects, 'NetworkPolicy').flatMap(
    (p) =>
      [...(p.spec?.ingress ?? []), ...(p.spec?.egress ?? [])].flatMap((rule) =>
        [...(rule.from ?? []), ...(rule.to ?? [])].map((peer) => peer.ipBlock?.cidr),
      ),
  );
  return cidrs.filter((c): c is string => (placeholderCidrs as readonly (string | undefined)[]).includes(c));
}

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Bytes of a Kubernetes quantity as the manifests write them (plain bytes or a binary suffix). */
export function bytesOf(quantity: string | undefined): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(quantity ?? '');
  if (match === null) throw new Error(`unsupported quantity '${quantity}'`);
  return Number(match[1]) * (match[2] === undefined ? 1 : (binarySuffixes[match[2]] ?? Number.NaN));
}
