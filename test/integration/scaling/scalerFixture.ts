import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CoreV1Event, V1Deployment } from '@kubernetes/client-node';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { readDeployment } from '../../../lib/k8s/deployments.ts';
import { targetAnnotations, targetLabel } from '../../../lib/scaling/annotations.ts';
import { type TestCluster, testDeployment } from '../../helpers/cluster.ts';
import { manifestsDir } from '../../helpers/manifests.ts';
import { kubectl } from '../manifests/cluster.ts';

/** A label only this test run's Deployments carry, so passes never touch anyone else's targets. */
const runLabel = 'm2.test/scaler-run';
const runId = randomBytes(3).toString('hex');
export const runSelector = `${targetLabel}=true,${runLabel}=${runId}`;

/** moto, with the SDK sending every queue URL to the embedded endpoint. */
export const sqs = (): SQSClient => new SQSClient({ useQueueUrlAsEndpoint: false });

/** The real RBAC of the manifests: cluster-wide discovery, and the shop Role bound in `namespace`. */
export async function grantScaler(admin: TestCluster, namespace: string): Promise<void> {
  // The platform is cluster-wide and every suite applies it: the newest manifests win.
  kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=m2-scaler-test',
    '-k',
    join(manifestsDir, 'platform'),
  ]);
  await admin.rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'm2-consumer-scaler' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'm2:consumer-scaler:shop',
      },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'm2:consumer-scaler' }],
    },
  });
}

let queues = 0;

/** A fresh queue in moto; returns its URL in the sqs.<region>.amazonaws.com form the manifests use. */
export async function createQueue(client: SQSClient): Promise<string> {
  queues++;
  const name = `scaler-it-${runId}-${queues}`;
  await client.send(new CreateQueueCommand({ QueueName: name }));
  return `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;
}

export async function deleteQueue(client: SQSClient, queueUrl: string): Promise<void> {
  await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
}

export { sendMessages } from '../../helpers/sqs.ts';

export interface ConsumerSpec {
  readonly name: string;
  readonly queueUrl: string;
  readonly replicas: number;
  readonly messagesPerPod?: number;
  readonly maxReplicas?: number;
  readonly cooldownSeconds?: number;
  readonly extraAnnotations?: Record<string, string>;
}

/** A consumer Deployment labelled and annotated as the manifests do (KWOK plays its pods). */
export async function createConsumer(
  admin: TestCluster,
  namespace: string,
  spec: ConsumerSpec,
): Promise<void> {
  const body: V1Deployment = testDeployment(spec.name, 'magento:2.4.8', spec.replicas, {
    [targetLabel]: 'true',
    [runLabel]: runId,
  });
  body.metadata = {
    ...body.metadata,
    annotations: {
      [targetAnnotations.queueUrl]: spec.queueUrl,
      [targetAnnotations.messagesPerPod]: String(spec.messagesPerPod ?? 250),
      [targetAnnotations.minReplicas]: '0',
      [targetAnnotations.maxReplicas]: String(spec.maxReplicas ?? 100),
      [targetAnnotations.cooldownSeconds]: String(spec.cooldownSeconds ?? 60),
      ...spec.extraAnnotations,
    },
  };
  await admin.apps.createNamespacedDeployment({ namespace, body });
}

/** spec.replicas as the admin sees it. */
export async function replicasOf(
  admin: ClusterClient,
  namespace: string,
  name: string,
): Promise<number | undefined> {
  return (await readDeployment(admin, { namespace, name })).spec?.replicas;
}

/** A clock the test moves: reconciles see simulated time, so nothing waits for real seconds. */
export function testClock(start = Date.now()): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** The scaler's Events about one Deployment (the deployment controller's own are left out), as the admin lists them. */
export function scalerEvents(namespace: string, name: string): CoreV1Event[] {
  const list = JSON.parse(
    kubectl([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.name=${name}`,
      '-o',
      'json',
    ]),
  ) as { items: CoreV1Event[] };
  return list.items.filter((e) => e.source?.component === 'm2-consumer-scaler');
}
