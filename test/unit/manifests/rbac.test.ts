import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1RoleBinding,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { clusterRoles, ofKind, render, shopOverlays } from '../../helpers/manifests.ts';
import { type AccessCase, accessCases, describeCase, splitResource } from '../../helpers/rbacCases.ts';

const platform = () => render('platform').objects;
const shopBindings = () =>
  shopOverlays.flatMap((o) => ofKind<V1RoleBinding>(render(o).objects, 'RoleBinding'));

/** As RBAC matches: a rule with resourceNames only allows requests naming one of them. */
const ruleAllows = (
  rule: V1PolicyRule,
  group: string,
  resource: string,
  verb: string,
  name: string | undefined,
): boolean =>
  (rule.apiGroups ?? []).includes(group) &&
  (rule.resources ?? []).includes(resource) &&
  rule.verbs.includes(verb) &&
  ((rule.resourceNames ?? []).length === 0 ||
    (name !== undefined && (rule.resourceNames ?? []).includes(name)));

const boundTo = (subjects: V1RoleBinding['subjects'], identity: string): boolean =>
  (subjects ?? []).some((s) => (s.kind === 'Group' || s.kind === 'User') && s.name === identity);

/**
 * RBAC's answer for one request, from the rendered objects alone: ClusterRoleBindings grant in every
 * namespace, RoleBindings only in their own. Rules are matched literally (no wildcards exist, see below).
 */
function evaluate(a: AccessCase): boolean {
  const roles = clusterRoles();
  const { group, name } = splitResource(a.resource);
  const resource = a.subresource ? `${name}/${a.subresource}` : name;
  const grants = (roleName: string) =>
    (roles.get(roleName)?.rules ?? []).some((r) => ruleAllows(r, group, resource, a.verb, a.name));
  const clusterWide = ofKind<V1ClusterRoleBinding>(platform(), 'ClusterRoleBinding').some(
    (b) => boundTo(b.subjects, a.identity) && grants(b.roleRef.name),
  );
  const inNamespace = shopBindings().some(
    (b) =>
      b.metadata?.namespace === a.namespace &&
      boundTo(b.subjects, a.identity) &&
      b.roleRef.kind === 'ClusterRole' &&
      grants(b.roleRef.name),
  );
  return clusterWide || (a.namespace !== '*' && inNamespace);
}

describe('RBAC of the function identities (rendered)', () => {
  it.each(accessCases.map((a) => [describeCase(a), a] as const))('%s', (_title, a) => {
    expect(evaluate(a)).toBe(a.allowed);
  });
});

describe('RBAC hygiene', () => {
  const rules = () => [...clusterRoles().values()].flatMap((r: V1ClusterRole) => r.rules ?? []);

  it('uses no wildcards', () => {
    for (const rule of rules()) {
      expect([...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs]).not.toContain('*');
      expect(rule.nonResourceURLs).toBeUndefined();
    }
  });

  it.each([
    'secrets',
    'configmaps',
    'pods/exec',
    'serviceaccounts/token',
    'roles',
    'rolebindings',
    'clusterroles',
  ])('grants nothing on %s', (resource) => {
    expect(rules().filter((r) => (r.resources ?? []).includes(resource))).toEqual([]);
  });

  it.each(['escalate', 'bind', 'impersonate', 'deletecollection'])('never grants the %s verb', (verb) => {
    expect(rules().filter((r) => r.verbs.includes(verb))).toEqual([]);
  });

  it('grants cluster-wide only reads of Deployments and namespaces (the pod budget), and only to the scaler', () => {
    // Act
    const bindings = ofKind<V1ClusterRoleBinding>(platform(), 'ClusterRoleBinding');
    const granted = bindings.flatMap((b) => clusterRoles().get(b.roleRef.name)?.rules ?? []);

    // Assess
    expect(bindings.flatMap((b) => (b.subjects ?? []).map((s) => `${s.kind}:${s.name}`))).toEqual([
      'Group:m2:consumer-scaler',
    ]);
    const grants = granted.flatMap((r) =>
      (r.resources ?? []).flatMap((resource) => r.verbs.map((verb) => `${verb} ${resource}`)),
    );
    expect(grants.sort()).toEqual(['get deployments', 'get namespaces', 'list deployments']);
  });

  it.each(shopOverlays)('%s binds both function identities to existing ClusterRoles', (overlay) => {
    // Act
    const bindings = ofKind<V1RoleBinding>(render(overlay).objects, 'RoleBinding');

    // Assess
    expect(bindings.map((b) => b.subjects?.map((s) => `${s.kind}:${s.name}`)).sort()).toEqual([
      ['Group:m2:consumer-scaler'],
      ['Group:m2:rollout'],
    ]);
    for (const b of bindings) expect(clusterRoles().has(b.roleRef.name), b.roleRef.name).toBe(true);
  });
});
