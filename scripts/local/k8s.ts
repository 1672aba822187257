import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { awsEnv } from './aws.ts';
import { type ClusterPki, ensurePki, kubeconfigYaml } from './pki.ts';
import { localDir, logFile, runningPid, startDaemon, stopDaemon, tsxDaemon, waitFor } from './proc.ts';

/** Name of the embedded cluster, in moto's EKS and in the webhook's `x-k8s-aws-id` check. */
export const clusterName = process.env.EKS_CLUSTER_NAME ?? 'm2-local';

const port = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
/** Ports on 127.0.0.1; override through the environment when they clash. */
export const k8sPorts = {
  etcd: port('M2_ETCD_PORT', 2379),
  etcdPeer: port('M2_ETCD_PEER_PORT', 2380),
  /** The cluster endpoint (readiness-gated proxy, as EKS's load balancer). */
  apiserver: port('M2_APISERVER_PORT', 6443),
  /** kube-apiserver itself; only the control-plane components talk to it directly. */
  apiserverBackend: port('M2_APISERVER_BACKEND_PORT', 16443),
  webhook: port('M2_WEBHOOK_PORT', 6444),
} as const;

const ms = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number of milliseconds`);
  return value;
};

/** Pod lifecycle timings KWOK plays back; see scripts/local/README.md. */
export function podTimings(): Record<string, number> {
  return {
    POD_CREATE_DELAY_MS: ms('M2_POD_START_DELAY_MS', 200),
    POD_READY_DELAY_MS: ms('M2_POD_READY_DELAY_MS', 1000),
    PULL_ERROR_DELAY_MS: ms('M2_PULL_ERROR_DELAY_MS', 1000),
    CRASHLOOP_INTERVAL_MS: ms('M2_CRASHLOOP_INTERVAL_MS', 2000),
    JOB_RUN_MS: ms('M2_JOB_RUN_MS', 1000),
    POD_DELETE_DELAY_MS: ms('M2_POD_DELETE_DELAY_MS', 200),
  };
}

/** The node pool label and taint that keep batch pods (consumers, cron, migration) off web nodes. */
export const workerPool = { label: 'm2-eks-pipeline.io/node-pool', value: 'workers' } as const;

/**
 * Six fake nodes, like two small EKS managed node groups across three zones: `m2-node-*` for web
 * pods (no taint), `m2-worker-*` for batch pods (labelled and tainted with {@link workerPool}, which
 * the consumer, cron and migration pods of k8s-manifests select and tolerate).
 */
export const fakeNodes = ['a', 'b', 'c'].flatMap((zone) => [
  { name: `m2-node-${zone}`, zone: `us-east-1${zone}`, pool: 'web' as const },
  { name: `m2-worker-${zone}`, zone: `us-east-1${zone}`, pool: 'workers' as const },
]);

const kubeDir = join(localDir, 'kube');
const pkiDir = join(localDir, 'pki');
const etcdDir = join(localDir, 'etcd');
/** The admin kubeconfig (system:masters through a client certificate). */
export const adminKubeconfig = join(kubeDir, 'admin.kubeconfig');
const apiserverUrl = `https://127.0.0.1:${k8sPorts.apiserver}`;
const apiserverBackendUrl = `https://127.0.0.1:${k8sPorts.apiserverBackend}`;

function binDir(): string {
  const script = join(import.meta.dirname, 'build-k8s.sh');
  const dir = execFileSync('bash', [script, '--print-bin-dir'], { encoding: 'utf8' }).trim();
  const bins = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];
  if (bins.some((bin) => !existsSync(join(dir, bin)))) {
    // First run on this machine: build from the Go module proxy (≈ 9 min on 2 cores), then cached.
    console.error(
      `building the embedded Kubernetes binaries into ${dir} (first run only, ≈ 9 min on 2 cores)…`,
    );
    execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  for (const bin of bins) {
    if (!existsSync(join(dir, bin))) {
      throw new Error(
        `${bin} is missing in ${dir} after bash scripts/local/build-k8s.sh; see its output above`,
      );
    }
  }
  return dir;
}

function writeConfigs(pki: ClusterPki): void {
  mkdirSync(kubeDir, { recursive: true });
  const write = (file: string, text: string) => writeFileSync(join(kubeDir, file), text, { mode: 0o600 });
  write(
    'admin.kubeconfig',
    kubeconfigYaml({ server: apiserverUrl, caFile: pki.ca.cert, user: 'm2-admin', token: pki.adminToken }),
  );
  write(
    'controller-manager.kubeconfig',
    kubeconfigYaml({
      server: apiserverBackendUrl,
      caFile: pki.ca.cert,
      user: 'kcm',
      client: pki.controllerManager,
    }),
  );
  write(
    'scheduler.kubeconfig',
    kubeconfigYaml({
      server: apiserverBackendUrl,
      caFile: pki.ca.cert,
      user: 'sched',
      client: pki.scheduler,
    }),
  );
  write(
    'kwok.kubeconfig',
    kubeconfigYaml({ server: apiserverBackendUrl, caFile: pki.ca.cert, user: 'kwok', client: pki.kwok }),
  );
  // The apiserver's view of the webhook: "cluster" is the webhook, "user" is the apiserver itself.
  write(
    'eks-auth-webhook.kubeconfig',
    kubeconfigYaml({
      server: `https://127.0.0.1:${k8sPorts.webhook}/authenticate`,
      caFile: pki.ca.cert,
      user: 'kube-apiserver',
    }),
  );
  const template = readFileSync(join(import.meta.dirname, 'kwok', 'stages.yaml'), 'utf8');
  const stages = Object.entries(podTimings()).reduce(
    (text, [key, value]) => text.replaceAll(`__${key}__`, String(value)),
    template,
  );
  write('kwok.yaml', stages);
}

/** Status and body of an admin GET against the cluster endpoint, or `base` (throws when it does not answer). */
export function adminGet(
  pki: ClusterPki,
  path: string,
  base = apiserverUrl,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        ca: readFileSync(pki.ca.cert),
        cert: readFileSync(pki.admin.cert),
        key: readFileSync(pki.admin.key),
        timeout: 2000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function adminSend(pki: ClusterPki, method: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      `${apiserverUrl}${path}`,
      {
        method,
        ca: readFileSync(pki.ca.cert),
        cert: readFileSync(pki.admin.cert),
        key: readFileSync(pki.admin.key),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

function startIfStopped(
  name: string,
  command: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): void {
  if (runningPid(name) === undefined) startDaemon(name, command, args, env);
}

async function waitForDaemon(
  name: string,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  let exited = false;
  try {
    await waitFor(
      what,
      async () => {
        exited = runningPid(name) === undefined;
        return exited || (await check());
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${what} failed; see ${logFile(name)}`, { cause: error });
  }
  if (exited) throw new Error(`${name} exited while waiting for ${what}; see ${logFile(name)}`);
}

function startEtcd(bin: string): void {
  startIfStopped('etcd', join(bin, 'etcd'), [
    '--name=m2',
    `--data-dir=${etcdDir}`,
    `--listen-client-urls=http://127.0.0.1:${k8sPorts.etcd}`,
    `--advertise-client-urls=http://127.0.0.1:${k8sPorts.etcd}`,
    `--listen-peer-urls=http://127.0.0.1:${k8sPorts.etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${k8sPorts.etcdPeer}`,
    `--initial-cluster=m2=http://127.0.0.1:${k8sPorts.etcdPeer}`,
    '--unsafe-no-fsync',
    '--quota-backend-bytes=2147483648',
    '--log-level=warn',
  ]);
}

/** The readiness-gated endpoint in front of the apiserver (see endpoint-proxy.ts). */
async function startEndpoint(pki: ClusterPki): Promise<void> {
  const [command, args] = tsxDaemon('endpoint-proxy.ts');
  startIfStopped('apiserver-endpoint', command, args, {
    M2_PROXY_PORT: String(k8sPorts.apiserver),
    M2_PROXY_BACKEND_PORT: String(k8sPorts.apiserverBackend),
    M2_PROXY_CA: pki.ca.cert,
  });
  await waitForDaemon(
    'apiserver-endpoint',
    `cluster endpoint ${apiserverUrl}`,
    async () => (await adminGet(pki, '/readyz')).status === 200,
    30_000,
  );
}

function startWebhook(pki: ClusterPki): void {
  const [command, args] = tsxDaemon('eks-auth-webhook.ts');
  startIfStopped('eks-auth-webhook', command, args, {
    M2_WEBHOOK_PORT: String(k8sPorts.webhook),
    M2_WEBHOOK_CERT: pki.webhook.cert,
    M2_WEBHOOK_KEY: pki.webhook.key,
    M2_WEBHOOK_CLUSTER_NAME: clusterName,
    M2_WEBHOOK_STS_ORIGINS: process.env.M2_WEBHOOK_STS_ORIGINS ?? awsEnv.AWS_ENDPOINT_URL,
    M2_WEBHOOK_ACCESS_ENTRIES:
      process.env.M2_ACCESS_ENTRIES_FILE ?? join(import.meta.dirname, 'access-entries.json'),
  });
}

/**
 * Restarts only the kube-apiserver this environment started (by its recorded PID) and waits
 * until the endpoint serves again. Tests use it to prove callers survive an apiserver restart.
 */
export async function restartApiserver(): Promise<void> {
  await stopDaemon('kube-apiserver');
  const pki = ensurePki(pkiDir);
  await startApiserver(binDir(), pki);
  await waitForDaemon(
    'apiserver-endpoint',
    'the endpoint to serve again',
    async () => (await adminGet(pki, '/readyz')).status === 200,
    30_000,
  );
}

async function startApiserver(bin: string, pki: ClusterPki): Promise<void> {
  startIfStopped('kube-apiserver', join(bin, 'kube-apiserver'), [
    `--etcd-servers=http://127.0.0.1:${k8sPorts.etcd}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${k8sPorts.apiserverBackend}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    `--token-auth-file=${pki.tokenAuthFile}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.96.0.0/16',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--endpoint-reconciler-type=none',
    `--authentication-token-webhook-config-file=${join(kubeDir, 'eks-auth-webhook.kubeconfig')}`,
    '--authentication-token-webhook-version=v1',
    // Short, so an expired or re-mapped identity is noticed within seconds, as on EKS.
    '--authentication-token-webhook-cache-ttl=10s',
    '--profiling=false',
    `--cert-dir=${join(kubeDir, 'apiserver-certs')}`,
    // The aggregation layer, so extension apiservers (KEDA's metrics server, issue 16)
    // serve under /apis. The requestheader CA is the environment's CA, which also signs every
    // client certificate: only the CN front-proxy-client may assert X-Remote-* identities.
    `--requestheader-client-ca-file=${pki.ca.cert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
    `--proxy-client-key-file=${pki.frontProxyClient.key}`,
    // The apiserver is no pod and has no route to Service IPs: it dials the EndpointSlice's address.
    '--enable-aggregator-routing=true',
    // Real nodes (M2_REAL_NODES=1, see nodes.ts) are reached on their InternalIP: their names resolve nowhere.
    ...(process.env.M2_REAL_NODES === '1' ? ['--kubelet-preferred-address-types=InternalIP'] : []),
    '--v=1',
  ]);
  await waitForDaemon(
    'kube-apiserver',
    'kube-apiserver /readyz',
    async () => (await adminGet(pki, '/readyz', apiserverBackendUrl)).status === 200,
    60_000,
  );
}

async function ensureNodes(pki: ClusterPki): Promise<void> {
  for (const node of fakeNodes) {
    const status = await adminSend(pki, 'POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: node.name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': node.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'topology.kubernetes.io/region': awsEnv.AWS_REGION,
          'topology.kubernetes.io/zone': node.zone,
          'node.kubernetes.io/instance-type': 'm6i.4xlarge',
          type: 'kwok',
          ...(node.pool === 'workers' ? { [workerPool.label]: workerPool.value } : {}),
        },
      },
      spec:
        node.pool === 'workers'
          ? { taints: [{ key: workerPool.label, value: workerPool.value, effect: 'NoSchedule' }] }
          : {},
      status: {
        allocatable: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        capacity: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      },
    });
    if (status !== 201 && status !== 409) throw new Error(`creating node ${node.name} answered ${status}`);
  }
}

async function nodesReady(pki: ClusterPki): Promise<boolean> {
  const { status, body } = await adminGet(pki, '/api/v1/nodes');
  if (status !== 200) return false;
  const list = JSON.parse(body) as {
    items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
  };
  const ready = new Set(
    list.items
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata.name),
  );
  return fakeNodes.every((n) => ready.has(n.name));
}

/**
 * Creates the EKS cluster record in moto (idempotent). moto invents its endpoint and CA, and its
 * API cannot change them: lib/k8s takes the real ones from EKS_ENDPOINT_OVERRIDE / EKS_CA_DATA_OVERRIDE.
 */
async function ensureClusterRecord(): Promise<void> {
  const eks = new EKSClient({
    endpoint: awsEnv.AWS_ENDPOINT_URL,
    region: awsEnv.AWS_REGION,
    credentials: { accessKeyId: awsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: awsEnv.AWS_SECRET_ACCESS_KEY },
  });
  try {
    await eks.send(new DescribeClusterCommand({ name: clusterName }));
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
    await eks.send(
      new CreateClusterCommand({
        name: clusterName,
        version: '1.37',
        roleArn: 'arn:aws:iam::123456789012:role/m2-eks-cluster',
        resourcesVpcConfig: { subnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'] },
      }),
    );
  } finally {
    eks.destroy();
  }
}

/**
 * Starts the embedded Kubernetes control plane on 127.0.0.1 (idempotent: only what is not
 * running), creates the three KWOK nodes and the cluster record in moto, and returns the
 * variables `.local/env` exports for it. Needs moto to be up (upAws) first.
 */
export async function upK8s(): Promise<Record<string, string>> {
  const bin = binDir();
  const pki = ensurePki(pkiDir);
  writeConfigs(pki);
  mkdirSync(etcdDir, { recursive: true });

  startEtcd(bin);
  startWebhook(pki);
  const clusterRecord = ensureClusterRecord();
  await waitForDaemon(
    'etcd',
    'etcd /health',
    async () =>
      (await fetch(`http://127.0.0.1:${k8sPorts.etcd}/health`, { signal: AbortSignal.timeout(1000) })).ok,
    30_000,
  );
  await startApiserver(bin, pki);
  await startEndpoint(pki);

  startIfStopped('kube-controller-manager', join(bin, 'kube-controller-manager'), [
    `--kubeconfig=${join(kubeDir, 'controller-manager.kubeconfig')}`,
    `--authentication-kubeconfig=${join(kubeDir, 'controller-manager.kubeconfig')}`,
    `--authorization-kubeconfig=${join(kubeDir, 'controller-manager.kubeconfig')}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    `--root-ca-file=${pki.ca.cert}`,
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    '--use-service-account-credentials=true',
    '--cluster-name=m2-local',
    '--v=1',
  ]);
  startIfStopped('kube-scheduler', join(bin, 'kube-scheduler'), [
    `--kubeconfig=${join(kubeDir, 'scheduler.kubeconfig')}`,
    `--authentication-kubeconfig=${join(kubeDir, 'scheduler.kubeconfig')}`,
    `--authorization-kubeconfig=${join(kubeDir, 'scheduler.kubeconfig')}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--v=1',
  ]);
  startIfStopped('kwok', join(bin, 'kwok'), [
    `--kubeconfig=${join(kubeDir, 'kwok.kubeconfig')}`,
    `--config=${join(kubeDir, 'kwok.yaml')}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--cidr=10.244.0.0/16',
    '--node-ip=127.0.0.1',
    '--server-address=127.0.0.1:0',
  ]);
  await ensureNodes(pki);
  await Promise.all([
    waitForDaemon('kwok', `${fakeNodes.length} Ready KWOK nodes`, () => nodesReady(pki), 60_000),
    waitForDaemon(
      'kube-controller-manager',
      'serviceaccount/default',
      async () => (await adminGet(pki, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
      60_000,
    ),
    clusterRecord,
  ]);
  return {
    KUBECONFIG: adminKubeconfig,
    EKS_CLUSTER_NAME: clusterName,
    EKS_ENDPOINT_OVERRIDE: apiserverUrl,
    EKS_CA_DATA_OVERRIDE: readFileSync(pki.ca.cert).toString('base64'),
  };
}

/** Whether any part of the embedded control plane this environment started still runs. */
export function k8sRunning(): boolean {
  return k8sDaemons.some((name) => runningPid(name) !== undefined);
}

const k8sDaemons = [
  'kwok',
  'kube-scheduler',
  'kube-controller-manager',
  'apiserver-endpoint',
  'kube-apiserver',
  'eks-auth-webhook',
  'etcd',
];

/**
 * Stops the control plane's processes (by recorded PID, in dependency order) and drops etcd's
 * data, so the next `local:up` starts from an empty cluster, as moto starts from an empty account.
 * The PKI is kept, so kubeconfigs stay valid.
 */
export async function downK8s(): Promise<string[]> {
  const stopped: string[] = [];
  for (const name of k8sDaemons) if (await stopDaemon(name)) stopped.push(name);
  rmSync(etcdDir, { recursive: true, force: true });
  return stopped;
}
