import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminGet, adminKubeconfig, k8sPorts } from './k8s.ts';
import { podBridge } from './nodes.ts';
import { clientCert, ensurePki, kubeconfigYaml, servingClientCert } from './pki.ts';
import { localDir, logFile, runningPid, startDaemon, stopDaemon, waitFor } from './proc.ts';

/**
 * Real KEDA next to consumerScaler (issue 16), opt-in: `M2_KEDA=1 M2_REAL_NODES=1 npm run local:up`.
 * The operator and its metrics server (keda-adapter) run as processes of this machine, as the
 * control plane does, with KEDA's own CRDs and RBAC; kube-apiserver reaches the metrics server
 * through the aggregation layer, and kube-controller-manager's HPA controller reads it from there.
 */
export const kedaEnabled = (): boolean => process.env.M2_KEDA === '1';

/** KEDA's namespace and the identity both processes authenticate as (its manifests' ServiceAccount). */
export const kedaNamespace = 'keda';
const serviceAccountUser = `system:serviceaccount:${kedaNamespace}:keda-operator`;
const metricsService = 'keda-metrics-apiserver';
const apiServiceName = 'v1beta1.external.metrics.k8s.io';

const port = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
/**
 * The metrics server listens on the pod bridge's gateway: an EndpointSlice may not hold a loopback
 * address, and the apiserver dials the EndpointSlice's address (aggregator routing). Everything else
 * KEDA serves stays on 127.0.0.1.
 */
export const kedaPorts = {
  metricsServer: port('M2_KEDA_METRICS_SERVER_PORT', 6446),
  /** The operator's gRPC metrics service, which the metrics server asks for every value. */
  operatorGrpc: port('M2_KEDA_OPERATOR_GRPC_PORT', 9666),
  operatorHealth: port('M2_KEDA_OPERATOR_HEALTH_PORT', 9667),
  operatorMetrics: port('M2_KEDA_OPERATOR_METRICS_PORT', 9668),
  metricsServerMetrics: port('M2_KEDA_METRICS_SERVER_METRICS_PORT', 9669),
} as const;

const daemons = ['keda-adapter', 'keda-operator'] as const;
const kedaDir = join(localDir, 'keda');
const certDir = join(kedaDir, 'certs');
const kubeconfig = join(kedaDir, 'keda.kubeconfig');
const scriptDir = import.meta.dirname;
const metricsServerUrl = `https://${podBridge.gateway}:${kedaPorts.metricsServer}`;

const buildScript = (flag: string): string =>
  execFileSync('bash', [join(scriptDir, 'build-keda.sh'), flag], { encoding: 'utf8' }).trim();

function kubectl(args: readonly string[], input?: string): string {
  const bin = execFileSync('bash', [join(scriptDir, 'build-k8s.sh'), '--print-bin-dir'], {
    encoding: 'utf8',
  }).trim();
  return execFileSync(join(bin, 'kubectl'), ['--kubeconfig', adminKubeconfig, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** The operator and adapter binaries, built on first use (about an hour on two busy cores). */
function kedaBinaries(): { operator: string; adapter: string; src: string } {
  const bin = buildScript('--print-bin-dir');
  const paths = { operator: join(bin, 'keda-operator'), adapter: join(bin, 'keda-adapter') };
  if (!existsSync(paths.operator) || !existsSync(paths.adapter)) {
    console.error(`building KEDA into ${bin} (first run only, about an hour on 2 cores)…`);
    execFileSync('bash', [join(scriptDir, 'build-keda.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  for (const file of Object.values(paths)) {
    if (!existsSync(file)) throw new Error(`${file} is missing after bash scripts/local/build-keda.sh`);
  }
  return { ...paths, src: buildScript('--print-src-dir') };
}

/**
 * One certificate for both processes, as KEDA's own cert manager makes one: the metrics server's
 * HTTPS, and both ends of the operator↔metrics-server gRPC (mutual TLS, dialled at 127.0.0.1).
 * KEDA reads ca.crt, tls.crt and tls.key from its --cert-dir.
 */
function writeCredentials(): void {
  const pki = ensurePki(join(localDir, 'pki'));
  const serving = servingClientCert(pki, join(kedaDir, 'pki'), 'keda', { cn: metricsService }, [
    `DNS:${metricsService}.${kedaNamespace}.svc`,
    `DNS:${metricsService}.${kedaNamespace}.svc.cluster.local`,
    `DNS:keda-operator.${kedaNamespace}.svc`,
    `DNS:keda-operator.${kedaNamespace}.svc.cluster.local`,
    `IP:${podBridge.gateway}`,
    'IP:127.0.0.1',
  ]);
  mkdirSync(certDir, { recursive: true });
  // Only when changed, and by rename: both processes watch these files, and a later local:up (a test
  // run's global setup) rewriting them in place made the metrics server read a half-written file.
  for (const [from, name] of [
    [pki.ca.cert, 'ca.crt'],
    [serving.cert, 'tls.crt'],
    [serving.key, 'tls.key'],
  ] as const) {
    const to = join(certDir, name);
    if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) continue;
    copyFileSync(from, `${to}.tmp`);
    renameSync(`${to}.tmp`, to);
  }
  // Both processes act as KEDA's ServiceAccount, so KEDA's RBAC applies unchanged.
  const client = clientCert(pki, join(kedaDir, 'pki'), 'keda-operator-client', {
    cn: serviceAccountUser,
    o: 'system:serviceaccounts',
  });
  writeFileSync(
    kubeconfig,
    kubeconfigYaml({
      server: `https://127.0.0.1:${k8sPorts.apiserver}`,
      caFile: pki.ca.cert,
      user: 'keda-operator',
      client,
    }),
    { mode: 0o600 },
  );
}

const applied = (objects: readonly object[]): void => {
  kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=m2-local-keda', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
};

/**
 * KEDA's CRDs, namespace, ServiceAccount and RBAC from its own source tree (config/), minus the
 * Deployments (these are processes here). The metrics server's Service has no selector: its one
 * endpoint is the gateway address, in an EndpointSlice this environment owns.
 */
function applyManifests(src: string): void {
  const config = join(src, 'config');
  const apply = (args: string[]) =>
    kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=m2-local-keda', ...args]);
  apply(['-k', join(config, 'crd')]);
  apply(['-f', join(config, 'general', 'namespace.yaml')]);
  apply(['-f', join(config, 'service_account', 'service_account.yaml')]);
  apply(['-k', join(config, 'rbac')]);
  apply(['-f', join(config, 'metrics-server', 'role.yaml')]);
  apply(['-f', join(config, 'metrics-server', 'role_binding.yaml')]);
  applied([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: metricsService, namespace: kedaNamespace },
      spec: { ports: [{ name: 'https', port: 443, targetPort: kedaPorts.metricsServer }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${metricsService}-m2-local`,
        namespace: kedaNamespace,
        labels: {
          'kubernetes.io/service-name': metricsService,
          'endpointslice.kubernetes.io/managed-by': 'm2-local',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [podBridge.gateway], conditions: { ready: true } }],
      ports: [{ name: 'https', port: kedaPorts.metricsServer, protocol: 'TCP' }],
    },
  ]);
}

/**
 * What both processes see: their kubeconfig, KEDA's namespace (a pod would read it from its
 * ServiceAccount mount) — and no AWS credentials or endpoint of this shell, so the SQS scaler
 * authenticates only through what a ScaledObject's TriggerAuthentication gives it.
 */
const daemonEnv = (): NodeJS.ProcessEnv => ({
  KUBECONFIG: kubeconfig,
  POD_NAMESPACE: kedaNamespace,
  KEDA_CLUSTER_OBJECT_NAMESPACE: kedaNamespace,
  WATCH_NAMESPACE: '',
  AWS_ENDPOINT_URL: '',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_REGION: '',
  AWS_DEFAULT_REGION: '',
});

async function waitForDaemon(name: string, what: string, check: () => Promise<boolean>): Promise<void> {
  try {
    await waitFor(
      what,
      async () => {
        if (runningPid(name) === undefined) throw new Error(`${name} exited`);
        return check();
      },
      120_000,
      500,
    );
  } catch (error) {
    throw new Error(`${what} failed; see ${logFile(name)}`, { cause: error });
  }
}

async function startOperator(binary: string): Promise<void> {
  if (runningPid('keda-operator') === undefined) {
    mkdirSync(join(kedaDir, 'ca'), { recursive: true });
    startDaemon(
      'keda-operator',
      binary,
      [
        '--zap-log-level=info',
        '--zap-encoder=console',
        '--zap-time-encoding=rfc3339',
        '--leader-elect=false',
        `--metrics-bind-address=127.0.0.1:${kedaPorts.operatorMetrics}`,
        `--health-probe-bind-address=127.0.0.1:${kedaPorts.operatorHealth}`,
        `--metrics-service-bind-address=127.0.0.1:${kedaPorts.operatorGrpc}`,
        `--cert-dir=${certDir}`,
        // The certificates are this environment's; KEDA must neither make its own nor patch the
        // APIService (its caBundle is the environment's CA, set below).
        '--enable-cert-rotation=false',
        '--enable-webhook-patching=false',
        '--enable-apiservice-patching=false',
        `--ca-dir=${join(kedaDir, 'ca')}`,
        '--k8s-cluster-name=m2-local',
      ],
      daemonEnv(),
    );
  }
  await waitForDaemon('keda-operator', 'keda-operator /readyz', async () => {
    const res = await fetch(`http://127.0.0.1:${kedaPorts.operatorHealth}/readyz`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok;
  });
}

async function startMetricsServer(binary: string): Promise<void> {
  if (runningPid('keda-adapter') === undefined) {
    startDaemon(
      'keda-adapter',
      binary,
      [
        '--zap-log-level=info',
        '--zap-encoder=console',
        `--bind-address=${podBridge.gateway}`,
        `--secure-port=${kedaPorts.metricsServer}`,
        `--tls-cert-file=${join(certDir, 'tls.crt')}`,
        `--tls-private-key-file=${join(certDir, 'tls.key')}`,
        `--cert-dir=${certDir}`,
        `--client-ca-file=${join(certDir, 'ca.crt')}`,
        `--lister-kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        `--metrics-service-address=127.0.0.1:${kedaPorts.operatorGrpc}`,
        `--port=${kedaPorts.metricsServerMetrics}`,
      ],
      daemonEnv(),
    );
  }
  const pki = ensurePki(join(localDir, 'pki'));
  await waitForDaemon(
    'keda-adapter',
    `keda-adapter ${metricsServerUrl}/readyz`,
    async () => (await adminGet(pki, '/readyz', metricsServerUrl)).status === 200,
  );
}

/** Registers the external metrics API once the metrics server answers, and waits until the aggregator calls it Available. */
async function registerApiService(): Promise<void> {
  const pki = ensurePki(join(localDir, 'pki'));
  applied([
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: apiServiceName },
      spec: {
        service: { name: metricsService, namespace: kedaNamespace, port: 443 },
        group: 'external.metrics.k8s.io',
        version: 'v1beta1',
        caBundle: readFileSync(pki.ca.cert).toString('base64'),
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  ]);
  await waitForDaemon('keda-adapter', `APIService ${apiServiceName} Available`, async () => {
    const service = JSON.parse(kubectl(['get', 'apiservice', apiServiceName, '-o', 'json'])) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    return service.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
  });
}

/**
 * Starts KEDA's operator and metrics server (idempotent) and registers the external metrics API.
 * Needs the control plane and the pod bridge (M2_REAL_NODES=1), so it runs after upNodes.
 */
export async function upKeda(): Promise<Record<string, string>> {
  if (!existsSync(`/sys/class/net/${podBridge.name}`)) {
    throw new Error(
      `M2_KEDA=1 needs the pod bridge ${podBridge.name} of M2_REAL_NODES=1: the metrics server must listen on ${podBridge.gateway}`,
    );
  }
  const binaries = kedaBinaries();
  writeCredentials();
  applyManifests(binaries.src);
  await startOperator(binaries.operator);
  await startMetricsServer(binaries.adapter);
  await registerApiService();
  return { M2_KEDA: '1' };
}

/** Whether a KEDA process this environment started still runs. */
export function kedaRunning(): boolean {
  return daemons.some((name) => runningPid(name) !== undefined);
}

/**
 * Unregisters the external metrics API first (an APIService whose server is gone makes every
 * discovery of the apiserver report an error), then stops the metrics server and the operator.
 */
export async function downKeda(): Promise<string[]> {
  if (!kedaRunning()) return [];
  try {
    kubectl(['delete', 'apiservice', apiServiceName, '--ignore-not-found', '--wait=true', '--timeout=20s']);
  } catch (error) {
    console.error(`could not delete APIService ${apiServiceName}; stopping KEDA anyway`, error);
  }
  const stopped: string[] = [];
  for (const name of daemons) if (await stopDaemon(name)) stopped.push(name);
  return stopped;
}
