import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CreateQueueCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { smokeAnnotations } from '../../lib/rollout/smokeChecks.ts';
import { queueNameOf } from '../../lib/scaling/target.ts';
import { exampleShopQueues } from '../local/example-shop.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const manifests = join(repoRoot, 'k8s-manifests');

/** The shop the demo works on: the example-shop overlay of k8s-manifests. */
export const shopNamespace = 'example-shop';
export const webDeployment = 'm2-http';
/** The demo's own server-side-apply field manager. */
const fieldManager = 'm2-demo';

async function kubectl(args: readonly string[]): Promise<string> {
  const { stdout } = await run('kubectl', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Polls `probe` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`, { cause: last });
    await sleep(500);
  }
}

/** The admin's Deployments API (KUBECONFIG = the embedded admin kubeconfig), for watching from outside. */
export function adminApps(): AppsV1Api {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc.makeApiClient(AppsV1Api);
}

/**
 * Puts a fresh example shop on the cluster: platform RBAC, then the overlay into an empty namespace.
 *
 * Why delete the namespace instead of re-applying over what is there: a previous demo (or a developer)
 * rolled the Deployments to other images and scaled the consumers, and those fields now belong to the
 * rollout's and the scaler's field managers; a server-side apply of the overlay's pinned image would
 * hit a field conflict, and `--force-conflicts` would silently take the fields over while leftover
 * state (the shop Lease's release history, migration Jobs, scaled consumers) stayed. An empty
 * namespace makes every run start from exactly the overlay, like a first run.
 */
export async function resetExampleShop(progress: (line: string) => void): Promise<void> {
  await applyPlatform();
  await deleteShopNamespace(progress);
  progress(`applying k8s-manifests/overlays/example-shop (namespace ${shopNamespace})`);
  await kubectl([
    'apply',
    '--server-side',
    `--field-manager=${fieldManager}`,
    '-k',
    join(manifests, 'overlays', 'example-shop'),
  ]);
  // KWOK's pods serve nothing, so the rollout's default smoke checks (GET / and GraphQL from the new
  // pods) would fail every release here: off for this lane, as the rollout tests do on KWOK. The
  // real-node lane keeps the defaults, and its releases are checked on pages the new pods serve.
  await kubectl([
    'annotate',
    '--overwrite',
    '-n',
    shopNamespace,
    `deployment/${webDeployment}`,
    `${smokeAnnotations.checks}=[]`,
  ]);
  progress('waiting for every Deployment to be Available (m2-http: 3 replicas, minReadySeconds 10)');
  const apps = adminApps();
  await until(
    'the example shop to be Available',
    async () => {
      const list = await apps.listNamespacedDeployment({ namespace: shopNamespace });
      const web = list.items.find((d) => d.metadata?.name === webDeployment);
      return list.items.length > 0 && list.items.every(settled) && (web?.status?.availableReplicas ?? 0) >= 3
        ? true
        : undefined;
    },
    180_000,
  );
}

/**
 * The example shop on the real nodes, from an empty namespace (see resetExampleShop for why): `npm run
 * local:example-shop` with M2_REAL_NODES=1 does the rest as a developer runs it — the local-real
 * overlay, Secret m2-secrets for a fresh MariaDB schema (the namespace is new), the migration Job of
 * the overlay's release and the wait for m2-http. Run as a child process: its kubectl and migration
 * waits are synchronous and it prints, and the demo's live view must keep drawing meanwhile.
 */
export async function resetRealShop(progress: (line: string) => void): Promise<void> {
  await applyPlatform();
  await deleteShopNamespace(progress);
  progress(
    'npm run local:example-shop (local-real overlay, MariaDB schema, migration Job, m2-http on real nodes)',
  );
  const child = spawn(
    join(repoRoot, 'node_modules', '.bin', 'tsx'),
    [join(repoRoot, 'scripts', 'local', 'example-shop.ts')],
    {
      env: { ...process.env, M2_REAL_NODES: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      progress(line);
    });
  await new Promise<void>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`scripts/local/example-shop.ts exited with ${code}:\n${tail.join('\n')}`)),
    );
  });
}

/** The storefront's address inside the cluster network: m2-http's ClusterIP, reached through kube-proxy. */
export async function webServiceUrl(): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const service = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedService({ namespace: shopNamespace, name: webDeployment });
  const ip = service.spec?.clusterIP;
  if (ip === undefined || ip === 'None')
    throw new Error(`${shopNamespace}/${webDeployment} has no ClusterIP`);
  return `http://${ip}:${service.spec?.ports?.[0]?.port ?? 80}`;
}

/** Platform RBAC: cluster-wide and applied by the tests too, so the manifests of this checkout win. */
async function applyPlatform(): Promise<void> {
  await kubectl([
    'apply',
    '--server-side',
    // Cluster-wide and applied by the tests too: the manifests of this checkout win.
    '--force-conflicts',
    `--field-manager=${fieldManager}`,
    '-k',
    join(manifests, 'platform'),
  ]);
}

async function deleteShopNamespace(progress: (line: string) => void): Promise<void> {
  const existing = await kubectl(['get', 'namespace', shopNamespace, '--ignore-not-found', '-o', 'name']);
  if (existing.trim() === '') return;
  progress(`deleting namespace ${shopNamespace} left by an earlier run, so the shop starts from the overlay`);
  // Real pods take their grace period (web: 35 s of shutdown, consumers: their batch).
  await kubectl(['delete', 'namespace', shopNamespace, '--wait=true', '--timeout=300s']);
}

const settled = (d: V1Deployment): boolean =>
  (d.status?.updatedReplicas ?? 0) === (d.spec?.replicas ?? 1) &&
  (d.status?.availableReplicas ?? 0) === (d.spec?.replicas ?? 1);

/** A consumer Deployment and its queue in moto. */
export interface ShopQueue {
  readonly deployment: string;
  readonly queueUrl: string;
}

/**
 * Creates the shop's queues (those the consumer Deployments' annotations name) if missing and purges
 * them, so a run never starts with messages a previous one left.
 */
export async function resetShopQueues(
  sqs = new SQSClient({ useQueueUrlAsEndpoint: false }),
): Promise<ShopQueue[]> {
  const queues: ShopQueue[] = [];
  for (const { deployment, queueUrl } of exampleShopQueues()) {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: queueNameOf(queueUrl) }));
    if (created.QueueUrl === undefined) throw new Error(`CreateQueue returned no URL for ${queueUrl}`);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: created.QueueUrl }));
    queues.push({ deployment, queueUrl: created.QueueUrl });
  }
  return queues;
}
