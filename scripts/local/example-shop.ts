import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { targetAnnotations } from '../../lib/scaling/annotations.ts';
import { queueNameOf } from '../../lib/scaling/target.ts';

/**
 * `npm run local:example-shop [-- --messages N]`: puts the example shop on the embedded stack —
 * the platform RBAC, the example-shop overlay (namespace `example-shop`), the batch node pool its
 * consumers need — and creates the shop's SQS queues in moto. With `--messages N`, sends N
 * messages to the product-updates queue so consumerScaler has something to scale for.
 * Needs `source .local/env` (KUBECONFIG, AWS_ENDPOINT_URL). Idempotent.
 */
const manifests = join(import.meta.dirname, '..', '..', 'k8s-manifests');
const overlay = join(manifests, 'overlays', 'example-shop');
const fieldManager = 'm2-example-shop';

const kubectl = (args: string[]): string => execFileSync('kubectl', args, { encoding: 'utf8' });

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
  kubectl(['apply', '--server-side', `--field-manager=${fieldManager}`, '-k', overlay]);
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const queues = exampleShopQueues();
  for (const { deployment, queueUrl } of queues) {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: queueNameOf(queueUrl) }));
    console.log(`${deployment}: ${created.QueueUrl}`);
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
