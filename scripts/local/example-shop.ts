import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { targetAnnotations } from '../../lib/scaling/annotations.ts';
import { queueNameOf } from '../../lib/scaling/target.ts';
import { awsEnv } from './aws.ts';
import { ensureShopSchema } from './mariadb.ts';
import { realNodesEnabled } from './nodes.ts';

/**
 * `npm run local:example-shop [-- --messages N]`: puts the example shop on the embedded stack —
 * the platform RBAC, the example-shop overlay (namespace `example-shop`), the batch node pool its
 * consumers need — and creates the shop's SQS queues in moto. With `--messages N`, sends N
 * messages to the product-updates queue so consumerScaler has something to scale for.
 * With M2_REAL_NODES=1 (real nodes running) it applies the local-real overlay instead, whose pods
 * run on the real nodes: then it also creates Secret m2-secrets for the shop's MariaDB schema, runs
 * the migration Job once per release and waits until the web tier is available. The shop's database
 * starts empty when the namespace does not exist yet (`kubectl delete namespace example-shop` resets it).
 * Needs `source .local/env` (KUBECONFIG, AWS_ENDPOINT_URL). Idempotent.
 */
const manifests = join(import.meta.dirname, '..', '..', 'k8s-manifests');
const overlay = join(manifests, 'overlays', realNodesEnabled() ? 'local-real' : 'example-shop');
const fieldManager = 'm2-example-shop';
/** The overlays' namespace (`namespace:` in overlays/example-shop). */
export const exampleShopNamespace = 'example-shop';

const kubectl = (args: string[], input?: string): string =>
  execFileSync('kubectl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'inherit'] });

/** The consumer Deployments' queue URLs, from the rendered overlay. */
export function exampleShopQueues(): { deployment: string; queueUrl: string }[] {
  return parseAllDocuments(kubectl(['kustomize', overlay]))
    .map((d) => d.toJS() as V1Deployment & { kind?: string })
    .filter((o) => o.kind === 'Deployment')
    .flatMap((d) => {
      const queueUrl = d.metadata?.annotations?.[targetAnnotations.queueUrl];
      return queueUrl === undefined ? [] : [{ deployment: d.metadata?.name ?? '', queueUrl }];
    });
}

export async function upExampleShop(messages = 0): Promise<void> {
  if (process.env.KUBECONFIG === undefined || process.env.AWS_ENDPOINT_URL === undefined) {
    throw new Error('run `source .local/env` first (KUBECONFIG and AWS_ENDPOINT_URL are not set)');
  }
  // Cluster-wide and applied by the tests too: the manifests of this checkout win.
  kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    `--field-manager=${fieldManager}`,
    '-k',
    join(manifests, 'platform'),
  ]);
  // Queues first: a consumer that starts before its queue exists fails its first batches.
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const queues = exampleShopQueues();
  for (const { deployment, queueUrl } of queues) {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: queueNameOf(queueUrl) }));
    console.log(`${deployment}: ${created.QueueUrl}`);
  }
  if (realNodesEnabled()) {
    // A new namespace gets a new database: the schema of an earlier shop (a later release's
    // migration) would make this release's setup:upgrade refuse to downgrade, as Magento does.
    const fresh =
      kubectl(['get', 'namespace', exampleShopNamespace, '--ignore-not-found', '-o', 'name']) === '';
    applyLocalSecrets(fresh);
  }
  kubectl(['apply', '--server-side', `--field-manager=${fieldManager}`, '-k', overlay]);
  if (realNodesEnabled()) {
    migrateOnce();
    kubectl(['-n', exampleShopNamespace, 'rollout', 'status', 'deployment/m2-http', '--timeout=300s']);
  }
  const productUpdates = queues.find((q) => q.deployment === 'm2-consumer-product-updates');
  if (messages > 0 && productUpdates !== undefined) {
    for (let sent = 0; sent < messages; sent += 10) {
      const entries = Array.from({ length: Math.min(10, messages - sent) }, (_, i) => ({
        Id: `m${i}`,
        MessageBody: JSON.stringify({ product_ids: [sent + i + 1], attributes: { status: 1 } }),
      }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: productUpdates.queueUrl, Entries: entries }));
    }
    console.log(`sent ${messages} messages to ${productUpdates.queueUrl}`);
  }
}

/**
 * The shop's namespace and Secret m2-secrets before any pod needs them (never committed): the
 * MariaDB schema and user of ensureShopSchema, and moto's credentials (pods have no IRSA here).
 */
function applyLocalSecrets(freshDatabase: boolean): void {
  const db = ensureShopSchema(exampleShopNamespace, { fresh: freshDatabase });
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: exampleShopNamespace } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'm2-secrets', namespace: exampleShopNamespace },
      type: 'Opaque',
      stringData: {
        MAGENTO_DB_USER: db.user,
        MAGENTO_DB_PASSWORD: db.password,
        AWS_ACCESS_KEY_ID: awsEnv.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: awsEnv.AWS_SECRET_ACCESS_KEY,
      },
    },
  ];
  kubectl(
    ['apply', '--server-side', `--field-manager=${fieldManager}`, '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
}

/**
 * setup:upgrade for the overlay's release, as the rollout does it: a Job from the m2-migrate
 * template (`kubectl create job --from`), named after the release so it runs once per release; a
 * failed one is replaced. Throws with the Job's log when it fails.
 */
function migrateOnce(): void {
  const template = JSON.parse(
    kubectl(['-n', exampleShopNamespace, 'get', 'cronjob/m2-migrate', '-o', 'json']),
  ) as { spec: { jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } } };
  const image = template.spec.jobTemplate.spec.template.spec.containers[0]?.image ?? '';
  const job = `m2-migrate-${(image.split(':').at(-1) ?? 'release').replaceAll(/[^a-z0-9]+/g, '-')}`;
  const ns = ['-n', exampleShopNamespace];
  const state = (): string =>
    kubectl([
      ...ns,
      'get',
      `job/${job}`,
      '-o',
      'jsonpath={.status.succeeded}/{.status.failed}',
      '--ignore-not-found',
    ]);
  if (state().startsWith('/1')) kubectl([...ns, 'delete', `job/${job}`, '--wait=true']);
  if (state() === '') kubectl([...ns, 'create', 'job', job, '--from=cronjob/m2-migrate']);
  const deadline = Date.now() + 300_000;
  for (let s = state(); !s.startsWith('1/'); s = state()) {
    if (s.endsWith('/1')) {
      throw new Error(`migration job ${job} failed:\n${kubectl([...ns, 'logs', `job/${job}`, '--tail=20'])}`);
    }
    if (Date.now() > deadline) throw new Error(`migration job ${job} did not finish within 300 s`);
    execFileSync('sleep', ['2']);
  }
  console.log(`migration ${job} succeeded`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--messages');
  const messages = i === -1 ? 0 : Number(process.argv[i + 1]);
  if (!Number.isInteger(messages) || messages < 0) {
    console.error('--messages takes a whole number');
    process.exit(2);
  }
  upExampleShop(messages).then(
    () => console.log('example shop applied; namespace example-shop'),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
