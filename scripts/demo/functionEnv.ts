import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { FunctionName } from './lambdaHost.ts';

/**
 * The IAM role each function runs as in the embedded environment. lib/k8s assumes it through STS
 * before signing its EKS token, so the EKS auth webhook maps the function to its own Kubernetes
 * group (scripts/local/access-entries.json) and RBAC applies as on EKS.
 */
export const embeddedRoleArns: Partial<Record<FunctionName, string>> = {
  consumerScaler: 'arn:aws:iam::123456789012:role/m2-consumer-scaler',
  rollout: 'arn:aws:iam::123456789012:role/m2-rollout',
};

export interface FunctionSettings {
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
  readonly memoryMb: number;
}

interface ServerlessFunction {
  readonly timeout?: number;
  readonly memorySize?: number;
  readonly environment?: Record<string, unknown>;
}

interface ServerlessDoc {
  readonly provider?: { readonly environment?: Record<string, unknown> };
  readonly functions?: Record<string, ServerlessFunction>;
  readonly params?: { readonly default?: Record<string, unknown> };
}

// CloudFormation short forms appear in serverless.yml (roles, resources); the demo reads none of
// their values, so they parse to plain placeholders.
// Every intrinsic's short form, so a new one in serverless.yml does not print YAML warnings in the demo.
const cfnTags = [
  'And',
  'Base64',
  'Cidr',
  'Condition',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Ref',
  'Select',
  'Split',
  'Sub',
].flatMap((name) =>
  (['scalar', 'seq', 'map'] as const).map((collection) => ({
    tag: `!${name}`,
    collection: collection === 'scalar' ? undefined : collection,
    resolve: () => `!${name}`,
  })),
);

const variable = /\$\{([^{}]+)\}/;

/**
 * Resolves the Serverless variables the functions' environments use — `${param:…}`, `${env:VAR, fallback}`,
 * `${opt:…}` (none given), `${sls:stage}`, `${self:path}` and quoted literals — as `sls` would for stage `demo` with no `--param`.
 * Throws on any other variable source, so a new one is noticed rather than passed on verbatim.
 */
export function resolveServerlessValue(
  value: string,
  doc: { readonly params?: { readonly default?: Record<string, unknown> } } & Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  let text = value;
  for (let depth = 0; depth < 20; depth++) {
    const match = variable.exec(text);
    if (match === null) return text;
    const resolved = resolveReference(match[1] ?? '', doc, env);
    text = `${text.slice(0, match.index)}${resolved}${text.slice(match.index + match[0].length)}`;
  }
  throw new Error(`serverless.yml: variables nested too deep in ${value}`);
}

function resolveReference(
  reference: string,
  doc: { readonly params?: { readonly default?: Record<string, unknown> } } & Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const [first, ...fallbacks] = reference.split(',').map((s) => s.trim());
  for (const candidate of [first ?? '', ...fallbacks]) {
    const literal = /^'(.*)'$/.exec(candidate);
    if (literal) return literal[1] ?? '';
    const [source, path = ''] = candidate.split(/:(.*)/s, 2);
    let found: unknown;
    if (source === 'env') found = env[path];
    else if (source === 'param') found = doc.params?.default?.[path];
    else if (source === 'opt')
      found = undefined; // no CLI options: take the fallback
    else if (source === 'sls' && path === 'stage') found = 'demo';
    else if (source === 'file(./serverless.viewXml.js)' && path === 'environment')
      // serverless.viewXml.js's MAGENTO_VIEW_XML: the packaged paths, i.e. the param's own list.
      found = String(doc.params?.default?.magentoViewXml ?? '')
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f !== '')
        .join(',');
    else if (source === 'self')
      found = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
    else throw new Error(`serverless.yml: the demo cannot resolve \${${candidate}}`);
    if (found !== undefined && found !== null) return String(found);
  }
  throw new Error(`serverless.yml: \${${reference}} resolves to nothing`);
}

/**
 * What a function gets in AWS from serverless.yml — provider environment, its own environment,
 * timeout and memory — plus, in the embedded environment, the role it acts as towards EKS.
 */
export function functionSettings(
  name: FunctionName,
  env: Readonly<Record<string, string | undefined>> = process.env,
  serverlessYml: string = readFileSync(join(import.meta.dirname, '..', '..', 'serverless.yml'), 'utf8'),
): FunctionSettings {
  const doc = parse(serverlessYml, { customTags: cfnTags }) as ServerlessDoc & Record<string, unknown>;
  const fn = doc.functions?.[name];
  if (fn === undefined) throw new Error(`serverless.yml has no function ${name}`);
  const vars: Record<string, string> = {};
  for (const [key, raw] of Object.entries({ ...doc.provider?.environment, ...fn.environment }))
    vars[key] = resolveServerlessValue(String(raw ?? ''), doc, env);
  const role = embeddedRoleArns[name];
  if (role !== undefined) vars.EKS_ASSUME_ROLE_ARN = role;
  return { env: vars, timeoutMs: (fn.timeout ?? 6) * 1000, memoryMb: fn.memorySize ?? 1024 };
}
