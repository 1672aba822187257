import {
  AppsV1Api,
  AuthenticationV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Deployment,
} from '@kubernetes/client-node';
import { type CallSettings, callK8s, defaultCallSettings } from '../../lib/k8s/call.ts';
import { ClientNodeCluster } from '../../lib/k8s/clientNodeCluster.ts';
import {
  type ClusterSettings,
  clusterSettingsFromEnv,
  type EksClusterSettings,
} from '../../lib/k8s/clusterSettings.ts';
import { type ConnectionDeps, connectKubeConfig } from '../../lib/k8s/connection.ts';
import { embeddedEnv } from './embedded.ts';

/**
 * The port over a real cluster, plus the generated API groups and the KubeConfig for what tests set
 * up and inspect but lib/ never does (namespaces, RBAC, creating Deployments, whoami).
 */
export class TestCluster extends ClientNodeCluster {
  readonly kubeConfig: KubeConfig;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly authentication: AuthenticationV1Api;

  constructor(kubeConfig: KubeConfig, calls: Partial<CallSettings> = {}) {
    super(kubeConfig, { ...defaultCallSettings, ...calls });
    this.kubeConfig = kubeConfig;
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    this.authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
  }
}

async function testCluster(settings: ClusterSettings, deps: ConnectionDeps = {}): Promise<TestCluster> {
  const { kubeConfig, calls } = await connectKubeConfig(settings, deps);
  return new TestCluster(kubeConfig, calls);
}

/** IAM roles the embedded cluster's access entries map (scripts/local/access-entries.json). */
export const roleArns = {
  consumerScaler: 'arn:aws:iam::123456789012:role/m2-consumer-scaler',
  rollout: 'arn:aws:iam::123456789012:role/m2-rollout',
  readonlyTest: 'arn:aws:iam::123456789012:role/m2-readonly-test',
} as const;

/** The embedded cluster as its admin (system:masters client certificate from KUBECONFIG). */
export function adminCluster(calls?: Partial<CallSettings>): Promise<TestCluster> {
  const env = embeddedEnv();
  return testCluster({ kind: 'kubeconfig', path: env.KUBECONFIG }, calls === undefined ? {} : { calls });
}

/** EKS-mode settings of the embedded cluster (DescribeCluster on moto + the documented overrides). */
export function eksSettings(assumeRoleArn?: string): EksClusterSettings {
  const settings = clusterSettingsFromEnv({
    ...embeddedEnv(),
    K8S_CONNECTION: 'eks',
    ...(assumeRoleArn === undefined ? {} : { EKS_ASSUME_ROLE_ARN: assumeRoleArn }),
  });
  if (settings.kind !== 'eks') throw new Error('expected EKS settings');
  return settings;
}

/** The embedded cluster as an IAM role, authenticated with EKS tokens through the webhook. */
export function roleCluster(
  roleArn: string,
  deps: { now?: () => Date; calls?: Partial<CallSettings> } = {},
): Promise<TestCluster> {
  return testCluster(eksSettings(roleArn), deps);
}

/** The embedded cluster with the test runner's own AWS identity (which no access entry maps). */
export function unmappedCluster(): Promise<TestCluster> {
  return testCluster(eksSettings());
}

/** Who the apiserver thinks the caller is. */
export interface ClusterIdentity {
  readonly username: string;
  readonly groups: readonly string[];
}

/**
 * `kubectl auth whoami`: a SelfSubjectReview, through callK8s so a refused token is refreshed and the
 * call retried once, exactly as lib/ calls behave.
 */
export async function whoAmI(cluster: TestCluster): Promise<ClusterIdentity> {
  const review = await callK8s(
    cluster.calls,
    { verb: 'create', resource: 'selfsubjectreviews.authentication.k8s.io', idempotent: true },
    () =>
      cluster.authentication.createSelfSubjectReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      }),
  );
  return { username: review.status?.userInfo?.username ?? '', groups: review.status?.userInfo?.groups ?? [] };
}

/** A KubeConfig that sends a fixed bearer token (what kubectl --token does). */
export function bearerKubeConfig(token: string): KubeConfig {
  const env = embeddedEnv();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'm2-local',
        server: env.EKS_ENDPOINT_OVERRIDE,
        caData: env.EKS_CA_DATA_OVERRIDE,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'token', token }],
    contexts: [{ name: 'm2-local', cluster: 'm2-local', user: 'token' }],
    currentContext: 'm2-local',
  });
  return kc;
}

let counter = 0;

/** Creates a namespace with a unique name; returns it and a cleanup function. */
export async function testNamespace(admin: TestCluster, prefix: string): Promise<string> {
  counter++;
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`.slice(0, 63);
  await admin.core.createNamespace({
    body: { metadata: { name, labels: { 'm2.test/owner': 'integration' } } },
  });
  return name;
}

/** Deletes a namespace (in the background; its objects go with it). */
export async function deleteNamespace(admin: TestCluster, name: string): Promise<void> {
  await admin.core.deleteNamespace({ name }).catch(() => undefined);
}

/** A Deployment whose pods KWOK plays; `image` may carry the broken-image markers. */
export function testDeployment(
  name: string,
  image: string,
  replicas = 1,
  labels: Record<string, string> = {},
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name, ...labels } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'php', image, resources: { requests: { cpu: '100m', memory: '128Mi' } } },
            { name: 'nginx', image: 'nginx:1.27', resources: { requests: { cpu: '50m', memory: '64Mi' } } },
          ],
        },
      },
    },
  };
}

/** Grants a user verbs on resources in one namespace (Role + RoleBinding), as the test needs. */
export async function grant(
  admin: TestCluster,
  namespace: string,
  user: string,
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[],
): Promise<void> {
  const rbac = admin.rbac;
  const name = `test-${user.replace(/[^a-z0-9-]/g, '-')}`;
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
}
