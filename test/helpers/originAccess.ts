import type { V1Ingress } from '@kubernetes/client-node';
import { find, type KubeObject } from './manifests.ts';

/** The header only the shop's CloudFront distribution sends (an origin custom header). */
const originVerifyHeader = 'X-Origin-Verify';

/** What the base carries until an overlay sets the region's prefix list and the shop's values. */
export const basePlaceholders = {
  prefixList: 'pl-00000000',
  values: ['origin-verify-current-not-set', 'origin-verify-next-not-set'],
} as const;

/** The example overlay's committed, public values (overlays/example-shop/origin-verify.env). */
export const exampleValues = ['example-shop-not-a-secret-current', 'example-shop-not-a-secret-next'] as const;

/** `openssl rand -hex 32`: lowercase, because ALB header values match case-insensitively. */
const secretValue = /^[0-9a-f]{64}$/;
/** An EC2 prefix-list id (`pl-` and 8 or 17 hex digits). */
const prefixListId = /^pl-([0-9a-f]{8}|[0-9a-f]{17})$/;

const annotation = (name: string) => `alb.ingress.kubernetes.io/${name}`;

/** How the shop's Ingress keeps everyone but its CloudFront distribution out. */
export interface OriginAccess {
  readonly prefixLists: readonly string[];
  readonly headerValues: readonly string[];
  readonly problems: readonly string[];
}

interface HeaderCondition {
  field?: string;
  httpHeaderConfig?: { httpHeaderName?: string; values?: string[] };
}

function headerValuesOf(raw: string | undefined, problems: string[]): string[] {
  let conditions: HeaderCondition[];
  try {
    conditions = JSON.parse(raw ?? 'null') as HeaderCondition[];
  } catch (error) {
    problems.push(`conditions.m2-http is not JSON: ${(error as Error).message}`);
    return [];
  }
  if (!Array.isArray(conditions) || conditions.length !== 1) {
    problems.push('conditions.m2-http must hold exactly one condition');
    return [];
  }
  const [only] = conditions;
  if (only?.field !== 'http-header' || only.httpHeaderConfig?.httpHeaderName !== originVerifyHeader)
    problems.push(`conditions.m2-http must be the http-header condition on ${originVerifyHeader}`);
  return only?.httpHeaderConfig?.values ?? [];
}

function valueProblems(values: readonly string[], example: boolean): string[] {
  const problems: string[] = [];
  if (values.length !== 2 || new Set(values).size !== 2)
    problems.push(
      `two distinct values (current, next) expected, got ${new Set(values).size} of ${values.length}`,
    );
  for (const [i, value] of values.entries()) {
    const slot = i === 0 ? 'current' : 'next';
    if ((basePlaceholders.values as readonly string[]).includes(value))
      problems.push(`${slot} value is the base's placeholder`);
    else if (example && value !== exampleValues[i]) problems.push(`${slot} value is not the example's`);
    else if (!example && (exampleValues as readonly string[]).includes(value))
      problems.push(`${slot} value is the example's public placeholder`);
    else if (!example && !secretValue.test(value))
      problems.push(`${slot} value is not 64 lowercase hex digits`);
  }
  return problems;
}

function prefixListProblems(annotations: Record<string, string>): { lists: string[]; problems: string[] } {
  const lists = (annotations[annotation('security-group-prefix-lists')] ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const problems: string[] = [];
  if (lists.length !== 1) problems.push(`one prefix list expected, got ${lists.length}`);
  for (const list of lists) {
    if (list === basePlaceholders.prefixList) problems.push("prefix list is the base's placeholder");
    else if (!prefixListId.test(list)) problems.push(`prefix list '${list}' is no prefix-list id`);
  }
  // Either would reopen the ALB: inbound-cidrs adds sources, security-groups makes the controller
  // ignore the prefix lists altogether.
  for (const key of ['inbound-cidrs', 'security-groups'])
    if (annotations[annotation(key)] !== undefined) problems.push(`${key} is set`);
  if (annotations[annotation('listen-ports')] !== '[{"HTTPS": 443}]')
    problems.push('listens on more than 443');
  return { lists, problems };
}

function ruleProblems(ingress: V1Ingress, annotations: Record<string, string>): string[] {
  const problems: string[] = [];
  const rules = ingress.spec?.rules ?? [];
  if (rules.length === 0) problems.push('no rules');
  for (const rule of rules) {
    const paths = (rule.http?.paths ?? []).map(
      (p) => `${p.pathType} ${p.path} -> ${p.backend.service?.name}:${p.backend.service?.port?.name}`,
    );
    // The header rule first, then the same path answered by the ALB's fixed 403.
    const expected = ['Prefix / -> m2-http:http', 'Prefix / -> m2-origin-forbidden:use-annotation'];
    if (JSON.stringify(paths) !== JSON.stringify(expected))
      problems.push(`rule ${rule.host}: paths ${JSON.stringify(paths)}`);
  }
  const forbidden = JSON.parse(annotations[annotation('actions.m2-origin-forbidden')] ?? 'null') as {
    type?: string;
    fixedResponseConfig?: { statusCode?: string };
  } | null;
  if (forbidden?.type !== 'fixed-response' || forbidden.fixedResponseConfig?.statusCode !== '403')
    problems.push('actions.m2-origin-forbidden is not the fixed 403');
  if (ingress.spec?.defaultBackend !== undefined)
    problems.push('sets the default backend (one Ingress per group may; no shop does)');
  return problems;
}

/**
 * The origin protection of a rendered shop: the ALB's prefix list, the header values its rule accepts,
 * and every way it falls short (empty when CloudFront, and only the shop's distribution, gets in).
 * `example` says whether the public example values are expected (the example overlay) or refused.
 */
export function originAccessOf(objects: readonly KubeObject[], example: boolean): OriginAccess {
  const ingress = find<V1Ingress>(objects, 'Ingress', 'm2-http');
  const annotations = ingress.metadata?.annotations ?? {};
  const problems: string[] = [];
  const headerValues = headerValuesOf(annotations[annotation('conditions.m2-http')], problems);
  const { lists, problems: listProblems } = prefixListProblems(annotations);
  problems.push(
    ...listProblems,
    ...valueProblems(headerValues, example),
    ...ruleProblems(ingress, annotations),
  );
  return { prefixLists: lists, headerValues, problems };
}
