import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type {
  V1Deployment,
  V1Job,
  V1Node,
  V1PodDisruptionBudget,
  V1PodList,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createEksToken } from '../../../lib/k8s/eksToken.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { manifestsDir, shopOverlays } from '../../helpers/manifests.ts';
import {
  type AccessCase,
  accessCases,
  describeCase,
  type Identity,
  shopNamespace,
} from '../../helpers/rbacCases.ts';
import {
  ensureWorkerPool,
  eventually,
  kubectl,
  kubectlJson,
  kubectlResult,
  renderShopInto,
  workerPool,
} from './cluster.ts';

/**
 * The example shop applied to the embedded cluster (real kube-apiserver, controllers, scheduler,
 * KWOK nodes in three zones). The overlay is rendered into a namespace of this test's own, so it
 * never collides with another test or a developer using `example-shop`.
 */
const namespace = `m2-manifests-${randomBytes(3).toString('hex')}`;
const inShop = (a: AccessCase): AccessCase => (a.namespace === shopNamespace ? { ...a, namespace } : a);

let env: Record<string, string> = {};
let createdNodes: string[] = [];
let shopYaml = '';
let tokenDir = '';

interface ListOf<T> {
  items: T[];
}

beforeAll(() => {
  env = embeddedEnv();
  if (env.KUBECONFIG === undefined) throw new Error('the embedded environment exports no KUBECONFIG');
  process.env.KUBECONFIG = env.KUBECONFIG;
  createdNodes = ensureWorkerPool();
  // Forced: the platform is cluster-wide and other suites apply it under their own field managers;
  // once it changes between runs, an unforced apply conflicts with what they applied.
  kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=m2-manifests-test',
    '-k',
    join(manifestsDir, 'platform'),
  ]);
  shopYaml = renderShopInto(shopOverlays[0], namespace);
  tokenDir = mkdtempSync(join(tmpdir(), 'm2-tokens-'));
});

afterAll(() => {
  if (env.KUBECONFIG === undefined) return;
  kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
  if (createdNodes.length > 0)
    kubectl(['delete', 'node', ...createdNodes, '--ignore-not-found', '--wait=false']);
  if (tokenDir !== '') rmSync(tokenDir, { recursive: true, force: true });
});

describe('the example shop on the embedded cluster', () => {
  it('passes a server-side dry run of every object', () => {
    // Prepare: the namespace must exist for its objects to be dry-run.
    const docs = parseAllDocuments(shopYaml).map((d) => d.toJS() as { kind: string });
    kubectl(['apply', '--server-side', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: docs.filter((d) => d.kind === 'Namespace'),
      }),
    });

    // Act
    const out = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: shopYaml });

    // Assess
    expect(out.match(/serverside-applied \(server dry run\)/g)?.length).toBe(docs.length);
  });

  it('applies, and every Deployment becomes Available', async () => {
    // Act
    kubectl(['apply', '--server-side', '--field-manager=m2-manifests-test', '-f', '-'], { input: shopYaml });

    // Assess: the HPA lifts m2-http from the API default of 1 to minReplicas 3 (no metrics needed).
    const deployments = await eventually(() => {
      const list = kubectlJson<ListOf<V1Deployment>>(['get', 'deployments', '-n', namespace]);
      const web = list.items.find((d) => d.metadata?.name === 'm2-http');
      const available = list.items.every((d) =>
        d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True'),
      );
      return available && (web?.status?.availableReplicas ?? 0) >= 3 ? list.items : undefined;
    }, 'every Deployment Available and m2-http at 3 available replicas');
    expect(deployments.map((d) => d.metadata?.name).sort()).toEqual([
      'm2-consumer-async-operations',
      'm2-consumer-export',
      'm2-consumer-media',
      'm2-consumer-product-updates',
      'm2-http',
    ]);
  });

  it('spreads the Ready web pods over the three zones, on non-batch nodes', () => {
    // Prepare
    const nodes = kubectlJson<ListOf<V1Node>>(['get', 'nodes']).items;
    const zoneOf = new Map(
      nodes.map((n) => [n.metadata?.name, n.metadata?.labels?.['topology.kubernetes.io/zone']]),
    );
    const poolOf = new Map(nodes.map((n) => [n.metadata?.name, n.metadata?.labels?.[workerPool.label]]));

    // Act
    const pods = kubectlJson<V1PodList>([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      'app.kubernetes.io/component=web',
    ]).items;
    const ready = pods.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );

    // Assess
    expect(ready.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ready.map((p) => zoneOf.get(p.spec?.nodeName))).size).toBe(3);
    expect(
      ready.map((p) => poolOf.get(p.spec?.nodeName)).filter((pool) => pool === workerPool.value),
    ).toEqual([]);
  });

  it('runs consumer pods on the batch pool only', () => {
    // Prepare
    const nodes = kubectlJson<ListOf<V1Node>>(['get', 'nodes']).items;
    const poolOf = new Map(nodes.map((n) => [n.metadata?.name, n.metadata?.labels?.[workerPool.label]]));

    // Act
    const pods = kubectlJson<V1PodList>([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      'app.kubernetes.io/component=consumer',
    ]).items;

    // Assess
    expect(pods.length).toBeGreaterThanOrEqual(4);
    expect(pods.map((p) => poolOf.get(p.spec?.nodeName) ?? 'none')).toEqual(pods.map(() => workerPool.value));
  });

  it('has a PDB that allows one web pod to be disrupted', async () => {
    // Act
    const pdb = await eventually(() => {
      const p = kubectlJson<V1PodDisruptionBudget>(['get', 'pdb', 'm2-http', '-n', namespace]);
      return (p.status?.disruptionsAllowed ?? 0) >= 1 ? p : undefined;
    }, 'PDB m2-http to allow a disruption');

    // Assess
    expect(pdb.status?.expectedPods).toBeGreaterThanOrEqual(3);
    expect(pdb.status?.currentHealthy).toBe(pdb.status?.expectedPods);
  });

  it('has an HPA for m2-http and none for the consumers', () => {
    // Act
    const hpas = kubectlJson<ListOf<V2HorizontalPodAutoscaler>>(['get', 'hpa', '-n', namespace]).items;

    // Assess
    expect(hpas.map((h) => h.spec?.scaleTargetRef.name)).toEqual(['m2-http']);
  });

  it('rejects a pod that breaks the restricted Pod Security Standard in the shop namespace', () => {
    // Prepare: an ordinary pod without any securityContext (root allowed, capabilities kept).
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'unrestricted-probe', namespace },
      spec: { containers: [{ name: 'c', image: 'registry.example/probe:1' }] },
    };

    // Act + Assess
    expect(() => kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(pod) })).toThrow(
      /violates PodSecurity "restricted/,
    );
  });
});

describe('RBAC on the embedded cluster (impersonation)', () => {
  it.each(accessCases.map((a) => [describeCase(a), a] as const))('%s', (_title, template) => {
    // Prepare
    const a = inShop(template);

    // Act
    const answer = canI(a, ['--as', a.identity, '--as-group', a.identity]);

    // Assess
    expect(answer).toBe(a.allowed);
  });
});

describe('RBAC with the functions’ own EKS tokens', () => {
  const sample: AccessCase[] = accessCases
    .filter((a) => a.verb === 'patch' || a.verb === 'list' || a.resource === 'secrets')
    .map(inShop);

  it.each(['m2:consumer-scaler', 'm2:rollout'] as const)('authenticates %s as itself', async (identity) => {
    // Act
    const whoami = JSON.parse(
      kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig: await kubeconfigFor(identity) }),
    );

    // Assess
    expect(whoami.status.userInfo.username).toBe(identity);
    expect(whoami.status.userInfo.groups).toContain(identity);
  });

  it.each(sample.map((a) => [describeCase(a), a] as const))('%s', async (_title, a) => {
    expect(canI(a, [], await kubeconfigFor(a.identity))).toBe(a.allowed);
  });

  it('lets the scaler scale a consumer to zero through the scale subresource', async () => {
    // Act
    kubectl(['scale', 'deployment/m2-consumer-media', '-n', namespace, '--replicas=0'], {
      kubeconfig: await kubeconfigFor('m2:consumer-scaler'),
    });

    // Assess
    const d = kubectlJson<V1Deployment>(['get', 'deployment', 'm2-consumer-media', '-n', namespace]);
    expect(d.spec?.replicas).toBe(0);
  });

  it('lets the rollout instantiate the migration Job from its template, and the Job completes', async () => {
    // Act
    kubectl(['create', 'job', 'm2-migrate-itest', '--from=cronjob/m2-migrate', '-n', namespace], {
      kubeconfig: await kubeconfigFor('m2:rollout'),
    });

    // Assess
    const job = await eventually(() => {
      const j = kubectlJson<V1Job>(['get', 'job', 'm2-migrate-itest', '-n', namespace]);
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    }, 'the migration Job to complete');
    expect(job.spec?.template.spec?.containers[0]?.image).toBe(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/magento:2.4.7-p3',
    );
    expect(job.spec?.backoffLimit).toBe(0);
  });

  it('refuses the rollout the Secrets of the shop', async () => {
    // Prepare
    const kubeconfig = await kubeconfigFor('m2:rollout');

    // Act + Assess
    expect(() => kubectl(['get', 'secrets', '-n', namespace], { kubeconfig })).toThrow(/forbidden/i);
  });
});

/** `kubectl auth can-i` for one case; true for "yes", false for "no", throws on anything else. */
function canI(a: AccessCase, extra: string[], kubeconfig?: string): boolean {
  const args = [
    'auth',
    'can-i',
    a.verb,
    a.name === undefined ? a.resource : `${a.resource}/${a.name}`,
    ...(a.subresource ? [`--subresource=${a.subresource}`] : []),
    ...(a.namespace === '*' ? ['--all-namespaces'] : ['-n', a.namespace]),
    ...extra,
  ];
  const result = kubectlResult(args, kubeconfig);
  const answer = result.stdout.trim();
  // can-i exits 0 with "yes", 1 with "no"; anything else is an error, not a denial.
  if (result.status === 0 && answer === 'yes') return true;
  if (result.status === 1 && answer === 'no') return false;
  throw new Error(`kubectl ${args.join(' ')} answered ${result.status}: ${answer} ${result.stderr}`);
}

const kubeconfigs = new Map<Identity, Promise<string>>();

/**
 * A kubeconfig that authenticates as the function itself: assume its IAM role on moto, build an
 * EKS token (presigned STS GetCallerIdentity) and hand it to the apiserver, whose webhook maps the
 * role through the access entries, as EKS does.
 */
function kubeconfigFor(identity: Identity): Promise<string> {
  const cached = kubeconfigs.get(identity);
  if (cached) return cached;
  const made = (async () => {
    const sts = new STSClient({ endpoint: env.AWS_ENDPOINT_URL, region: env.AWS_REGION });
    const role = identity.replace(/^m2:/, 'm2-');
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::123456789012:role/${role}`,
        RoleSessionName: 'manifests-test',
      }),
    );
    if (Credentials?.AccessKeyId === undefined || Credentials.SecretAccessKey === undefined) {
      throw new Error(`AssumeRole ${role} returned no credentials`);
    }
    const { token } = await createEksToken({
      clusterName: env.EKS_CLUSTER_NAME ?? '',
      region: env.AWS_REGION ?? '',
      stsEndpoint: env.AWS_ENDPOINT_URL ?? '',
      credentials: {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        sessionToken: Credentials.SessionToken,
      },
      now: new Date(),
    });
    const file = join(tokenDir, `${role}.kubeconfig`);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'embedded',
          cluster: {
            server: env.EKS_ENDPOINT_OVERRIDE,
            'certificate-authority-data': env.EKS_CA_DATA_OVERRIDE,
          },
        },
      ],
      users: [{ name: identity, user: { token } }],
      contexts: [{ name: identity, context: { cluster: 'embedded', user: identity } }],
      'current-context': identity,
    };
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  })();
  kubeconfigs.set(identity, made);
  return made;
}
