/**
 * What the pipeline's function identities may and may not do, as one table. The unit test checks
 * it against the rendered RBAC objects; the integration test asks the real apiserver the same
 * questions (impersonation and the functions' own EKS tokens).
 */

/** An identity as the EKS access entries map it: username and group carry the same name. */
export type Identity = 'm2:consumer-scaler' | 'm2:rollout';

export interface AccessCase {
  readonly identity: Identity;
  readonly verb: string;
  /** `resource[.group]` as kubectl spells it, e.g. `deployments.apps`, `leases.coordination.k8s.io`. */
  readonly resource: string;
  readonly subresource?: string;
  /** The object's name, for rules limited by resourceNames (a service proxy's is `<service>:<port>`). */
  readonly name?: string;
  /** A namespace, or `*` for a request across all namespaces. */
  readonly namespace: string;
  readonly allowed: boolean;
}

/** The namespace of the example shop; `default` stands for any namespace without a shop overlay. */
export const shopNamespace = 'example-shop';
const other = 'default';

const c = (
  identity: Identity,
  allowed: boolean,
  verb: string,
  resource: string,
  namespace: string,
  subresource?: string,
): AccessCase => ({ identity, allowed, verb, resource, namespace, ...(subresource ? { subresource } : {}) });

/** A case about one named object. */
const named = (
  identity: Identity,
  allowed: boolean,
  verb: string,
  resource: string,
  namespace: string,
  name: string,
  subresource?: string,
): AccessCase => ({ ...c(identity, allowed, verb, resource, namespace, subresource), name });

const scaler = 'm2:consumer-scaler';
const rollout = 'm2:rollout';
const ns = shopNamespace;

export const accessCases: readonly AccessCase[] = [
  // consumerScaler: discover everywhere, write only in shops.
  c(scaler, true, 'list', 'deployments.apps', '*'),
  // Nothing in lib/scaling watches: each invocation lists afresh.
  c(scaler, false, 'watch', 'deployments.apps', '*'),
  c(scaler, true, 'get', 'deployments.apps', ns),
  c(scaler, true, 'update', 'deployments.apps', ns, 'scale'),
  c(scaler, true, 'patch', 'deployments.apps', ns, 'scale'),
  c(scaler, true, 'patch', 'deployments.apps', ns),
  // The code neither reads the scale (it writes with the Deployment's resourceVersion) nor touches pods.
  c(scaler, false, 'get', 'deployments.apps', ns, 'scale'),
  c(scaler, false, 'list', 'pods', ns),
  c(scaler, false, 'patch', 'pods', ns),
  c(scaler, false, 'patch', 'deployments.apps', other, 'scale'),
  c(scaler, false, 'patch', 'deployments.apps', other),
  c(scaler, false, 'list', 'pods', '*'),
  c(scaler, false, 'update', 'deployments.apps', ns),
  c(scaler, false, 'create', 'deployments.apps', ns),
  c(scaler, false, 'delete', 'deployments.apps', ns),
  c(scaler, false, 'delete', 'pods', ns),
  c(scaler, false, 'get', 'secrets', ns),
  c(scaler, false, 'list', 'secrets', '*'),
  c(scaler, false, 'get', 'configmaps', ns),
  c(scaler, false, 'create', 'jobs.batch', ns),
  c(scaler, false, 'patch', 'statefulsets.apps', ns, 'scale'),
  c(scaler, false, 'create', 'horizontalpodautoscalers.autoscaling', ns),
  // Events on the Deployments it scales or skips: created, their count patched, never read back.
  c(scaler, true, 'create', 'events', ns),
  c(scaler, true, 'patch', 'events', ns),
  c(scaler, false, 'get', 'events', ns),
  c(scaler, false, 'delete', 'events', ns),
  c(scaler, false, 'create', 'events', other),
  c(scaler, false, 'create', 'events.events.k8s.io', ns),
  // rollout: one shop at a time, through per-shop RoleBindings.
  c(rollout, true, 'get', 'deployments.apps', ns),
  c(rollout, true, 'watch', 'deployments.apps', ns),
  c(rollout, true, 'patch', 'deployments.apps', ns),
  c(rollout, true, 'list', 'replicasets.apps', ns),
  c(rollout, true, 'watch', 'pods', ns),
  c(rollout, true, 'get', 'pods', ns, 'log'),
  c(rollout, true, 'get', 'cronjobs.batch', ns),
  c(rollout, true, 'patch', 'cronjobs.batch', ns),
  c(rollout, true, 'create', 'jobs.batch', ns),
  c(rollout, true, 'watch', 'jobs.batch', ns),
  c(rollout, true, 'get', 'leases.coordination.k8s.io', ns),
  c(rollout, true, 'create', 'leases.coordination.k8s.io', ns),
  c(rollout, true, 'update', 'leases.coordination.k8s.io', ns),
  c(rollout, true, 'list', 'jobs.batch', ns),
  c(rollout, true, 'list', 'pods', ns),
  // Informers and lists only; the Job cleans itself up (ttlSecondsAfterFinished); releasing the Lease is an update.
  c(rollout, false, 'get', 'pods', ns),
  c(rollout, false, 'get', 'replicasets.apps', ns),
  c(rollout, false, 'get', 'jobs.batch', ns),
  c(rollout, true, 'delete', 'jobs.batch', ns),
  c(rollout, false, 'delete', 'leases.coordination.k8s.io', ns),
  c(rollout, false, 'list', 'cronjobs.batch', ns),
  c(rollout, false, 'delete', 'deployments.apps', ns),
  c(rollout, false, 'update', 'deployments.apps', ns),
  c(rollout, false, 'patch', 'deployments.apps', ns, 'scale'),
  c(rollout, false, 'patch', 'deployments.apps', other),
  c(rollout, false, 'list', 'deployments.apps', '*'),
  c(rollout, false, 'patch', 'replicasets.apps', ns),
  c(rollout, false, 'delete', 'pods', ns),
  c(rollout, false, 'create', 'pods', ns, 'exec'),
  c(rollout, false, 'delete', 'cronjobs.batch', ns),
  c(rollout, false, 'create', 'cronjobs.batch', ns),
  c(rollout, false, 'patch', 'jobs.batch', ns),
  c(rollout, false, 'create', 'jobs.batch', other),
  c(rollout, false, 'get', 'secrets', ns),
  c(rollout, false, 'get', 'configmaps', ns),
  c(rollout, false, 'patch', 'leases.coordination.k8s.io', other),
  c(rollout, false, 'create', 'rolebindings.rbac.authorization.k8s.io', ns),
  c(rollout, false, 'patch', 'services', ns),
  c(rollout, false, 'patch', 'ingresses.networking.k8s.io', ns),
  // Smoke checks: its own Service (created — the admission policy limits which — and deleted) and
  // GETs through the apiserver's proxy to it, nothing else of Services.
  c(rollout, true, 'create', 'services', ns),
  named(rollout, true, 'delete', 'services', ns, 'm2-http-smoke'),
  named(rollout, true, 'get', 'services', ns, 'm2-http-smoke:http', 'proxy'),
  named(rollout, false, 'delete', 'services', ns, 'm2-http'),
  named(rollout, false, 'get', 'services', ns, 'm2-http:http', 'proxy'),
  named(rollout, false, 'create', 'services', ns, 'm2-http-smoke:http', 'proxy'),
  named(rollout, false, 'get', 'services', ns, 'm2-http-smoke'),
  named(rollout, false, 'update', 'services', ns, 'm2-http-smoke'),
  c(rollout, false, 'create', 'services', other),
  c(rollout, false, 'get', 'pods', ns, 'proxy'),
  // The preview: a Deployment created (the admission policies limit which) and deleted by name.
  c(rollout, true, 'create', 'deployments.apps', ns),
  named(rollout, true, 'delete', 'deployments.apps', ns, 'm2-http-preview'),
  named(rollout, false, 'delete', 'deployments.apps', ns, 'm2-http'),
  named(rollout, false, 'update', 'deployments.apps', ns, 'm2-http-preview'),
  c(rollout, false, 'create', 'deployments.apps', other),
  named(rollout, false, 'delete', 'deployments.apps', other, 'm2-http-preview'),
  c(rollout, false, 'deletecollection', 'deployments.apps', ns),
];

/** `resource[.group]` split into the API group and the resource name. */
export function splitResource(resource: string): { group: string; name: string } {
  const dot = resource.indexOf('.');
  return dot < 0
    ? { group: '', name: resource }
    : { group: resource.slice(dot + 1), name: resource.slice(0, dot) };
}

/** A readable name for a case in test titles. */
export const describeCase = (a: AccessCase): string =>
  `${a.identity} ${a.allowed ? 'may' : 'may not'} ${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name === undefined ? '' : ` ${a.name}`} in ${a.namespace === '*' ? 'all namespaces' : a.namespace}`;
