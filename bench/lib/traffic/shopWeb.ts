import { join } from 'node:path';
import {
  type AppsV1Api,
  type CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { patchDeployment } from '../../../lib/k8s/deployments.ts';
import { waitForDeploymentRollout } from '../../../lib/rollout/waitRollout.ts';
import { awsEnv } from '../../../scripts/local/aws.ts';
import { type ReleaseTag, releaseImage } from '../../../scripts/local/images/releases.ts';
import type { ShopDatabase } from '../../../scripts/local/mariadb.ts';
import { realNodeTaint } from '../../../scripts/local/nodes.ts';
import { kubectl, manifestsDir } from './kubectl.ts';

/** The cluster as its admin: lib/'s port (rollout waits, patches) plus the generated API for set-up. */
export interface ShopCluster extends ClusterClient {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
}

/** The shop's web tier, as base/web.yaml and web-hpa-pdb.yaml name it. */
export const webDeployment = 'm2-http';
const webSelector = 'app.kubernetes.io/name=m2-http,app.kubernetes.io/component=web';

/**
 * A pod label naming the namespace, so `kubectl drain --pod-selector` evicts this namespace's web pods
 * only (every shop's web pods carry the same app labels, and other suites run theirs on the same nodes).
 */
export const namespaceLabel = 'bench.m2-eks-pipeline.io/namespace';

/** What the web tier runs with on the real nodes. */
export interface WebTierSettings {
  readonly tag: ReleaseTag;
  /** The HPA's minReplicas (3, one per zone) unless a case needs fewer. */
  readonly replicas: number;
  readonly db: ShopDatabase;
  /** Releases whose `setup:upgrade` runs, in order, before the pods must be Ready (m2-migrate's job). */
  readonly upgrades: readonly ReleaseTag[];
}

/**
 * The example shop on the real nodes as its overlay local-real renders it (kustomize): the production
 * overlay plus what this machine differs in (release images without a registry, real-node selector and
 * toleration, small requests, DB and moto on the bridge gateway).
 */
export function renderLocalReal(): KubernetesObject[] {
  const yaml = kubectl(['kustomize', join(manifestsDir, 'overlays', 'local-real')]);
  return parseAllDocuments(yaml).map((d) => d.toJS() as KubernetesObject);
}

/**
 * The kinds and names the web tier needs; consumers, cron, the migration template and the Ingress stay
 * out, and so do the NetworkPolicies (the bridge CNI enforces none, scripts/local/README.md).
 */
const webKinds: ReadonlySet<string> = new Set([
  'ServiceAccount',
  'ConfigMap',
  'Service',
  'Deployment',
  'PodDisruptionBudget',
]);
const isWebObject = (o: KubernetesObject): boolean =>
  webKinds.has(o.kind ?? '') && (o.kind !== 'Deployment' || o.metadata?.name === webDeployment);

/**
 * The overlay's m2-http with a fixed replica count and a release; nothing else of it changes (probes,
 * preStop, grace period, strategy, spread).
 */
function pinned(deployment: V1Deployment, namespace: string, settings: WebTierSettings): V1Deployment {
  const template = deployment.spec?.template;
  const pod = template?.spec;
  if (deployment.spec === undefined || template === undefined || pod === undefined)
    throw new Error(`the overlay's ${webDeployment} has no pod template`);
  return {
    ...deployment,
    // The HPA owns replicas in production (base/web.yaml leaves it out); here the bench holds it still.
    spec: {
      ...deployment.spec,
      replicas: settings.replicas,
      template: {
        ...template,
        metadata: {
          ...template.metadata,
          labels: { ...template.metadata?.labels, [namespaceLabel]: namespace },
        },
        spec: {
          ...pod,
          containers: pod.containers.map((c) => ({ ...c, image: releaseImage(settings.tag) })),
        },
      },
    },
  };
}

/**
 * The queue name prefix of this namespace's consumers (the stand-in reads `<prefix><consumer name>`;
 * m2-env's example-shop- is the shared example shop's), so a bench's queues are its own.
 */
export const queuePrefixOf = (namespace: string): string => `${namespace}-`;

/**
 * The Secret base/web.yaml and consumers.yaml expect (m2-secrets, created out of band in production):
 * this schema, moto's credentials (pods have no IRSA here) and this namespace's queue prefix.
 */
const secretOf = (
  db: ShopDatabase,
  namespace: string,
): KubernetesObject & { stringData: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'm2-secrets', namespace },
  stringData: {
    MAGENTO_DB_HOST: `${db.host}:${db.port}`,
    MAGENTO_DB_NAME: db.name,
    MAGENTO_DB_USER: db.user,
    MAGENTO_DB_PASSWORD: db.password,
    AWS_ACCESS_KEY_ID: awsEnv.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: awsEnv.AWS_SECRET_ACCESS_KEY,
    MAGENTO_SQS_QUEUE_PREFIX: queuePrefixOf(namespace),
  },
});

/**
 * The example shop's web tier on the real nodes (ServiceAccount, ConfigMaps, Service, PDB and the m2-http
 * Deployment as local-real renders them) in its own namespace: a release tag, a fixed replica count
 * instead of the HPA, and m2-secrets (its variables win over m2-env's: envFrom order).
 */
function webTierObjects(
  rendered: readonly KubernetesObject[],
  namespace: string,
  settings: WebTierSettings,
): KubernetesObject[] {
  const objects = rendered.filter(isWebObject).map((o) => {
    const moved = o.kind === 'Deployment' ? pinned(o as V1Deployment, namespace, settings) : o;
    return { ...moved, metadata: { ...moved.metadata, namespace } };
  });
  return [...objects, secretOf(settings.db, namespace)];
}

/** How long a web rollout may take here before the bench calls it stuck (a new pod is Ready in seconds). */
const readyDeadlineMs = 180_000;

/** Creates the web tier in `namespace` and waits for its rollout; returns the Service's base URL. */
export async function deployWebTier(
  cluster: ShopCluster,
  namespace: string,
  settings: WebTierSettings,
): Promise<string> {
  const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  for (const object of webTierObjects(renderLocalReal(), namespace, settings)) await api.create(object);
  for (const tag of settings.upgrades) await upgradeSchema(cluster, namespace, tag);
  await waitForRollout(cluster, namespace, readyDeadlineMs);
  const service = await cluster.core.readNamespacedService({ namespace, name: webDeployment });
  const ip = service.spec?.clusterIP;
  if (ip === undefined || ip === 'None') throw new Error(`${namespace}/${webDeployment} has no ClusterIP`);
  return `http://${ip}:${service.spec?.ports?.[0]?.port ?? 80}`;
}

/**
 * Waits for the m2-http rollout as the rollout function does (lib/rollout/waitRollout.ts: complete,
 * or a new pod failing, or the deadline); resolves 'complete', rejects with TargetFailedError.
 */
export async function waitForRollout(
  cluster: ClusterClient,
  namespace: string,
  deadlineMs: number,
): Promise<void> {
  const now = Date.now();
  await waitForDeploymentRollout(cluster, namespace, webDeployment, {
    deadlineAt: now + deadlineMs,
    handOverAt: now + deadlineMs + 1,
    recheckMs: 2_000,
    // The rollout function's default (lib/rollout/run.ts).
    maxRestarts: 2,
    now: Date.now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
}

/** Sets the release of both m2-http containers, as the rollout function's image patch does. */
export async function setWebRelease(
  cluster: ClusterClient,
  namespace: string,
  tag: ReleaseTag,
): Promise<void> {
  const image = releaseImage(tag);
  await patchDeployment(
    cluster,
    { namespace, name: webDeployment },
    { spec: { template: { spec: { containers: ['nginx', 'php-fpm'].map((name) => ({ name, image })) } } } },
  );
}

/** The web pods, newest last. */
export async function webPods(cluster: ShopCluster, namespace: string): Promise<V1Pod[]> {
  const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: webSelector });
  return pods.items.sort(
    (a, b) =>
      (a.metadata?.creationTimestamp?.getTime() ?? 0) - (b.metadata?.creationTimestamp?.getTime() ?? 0),
  );
}

let migrations = 0;

/**
 * `php bin/magento setup:upgrade --keep-generated` of a release in a pod of its own on a real node
 * (what the overlay's m2-migrate Job runs); throws unless it exits 0.
 */
async function upgradeSchema(cluster: ShopCluster, namespace: string, tag: ReleaseTag): Promise<void> {
  migrations += 1;
  const name = `setup-upgrade-${migrations}`;
  await cluster.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        nodeSelector: { type: 'real' },
        tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: realNodeTaint.effect }],
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: { runAsNonRoot: true, runAsUser: 33, runAsGroup: 33, fsGroup: 33 },
        containers: [
          {
            name: 'magento',
            image: releaseImage(tag),
            imagePullPolicy: 'Never',
            command: ['php', 'bin/magento', 'setup:upgrade', '--keep-generated'],
            envFrom: [{ secretRef: { name: 'm2-secrets' } }],
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
            volumeMounts: [
              { name: 'var', mountPath: '/var/www/html/var' },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          },
        ],
        volumes: [
          { name: 'var', emptyDir: {} },
          { name: 'tmp', emptyDir: {} },
        ],
      },
    },
  });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const pod = await cluster.core.readNamespacedPod({ namespace, name });
    const exit = pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
    if (exit === 0) return;
    if (exit !== undefined) throw new Error(`${tag} setup:upgrade exited ${exit} in ${namespace}/${name}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${tag} setup:upgrade in ${namespace}/${name} did not finish within 120 s`);
}
