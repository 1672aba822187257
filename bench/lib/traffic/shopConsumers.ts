import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type KubernetesObject,
  KubernetesObjectApi,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { type ReleaseTag, releaseImage } from '../../../scripts/local/images/releases.ts';
import { type ShopDatabase, shopRows } from '../../../scripts/local/mariadb.ts';
import { kubectlAsync, kubectlFollow } from './kubectl.ts';
import type { LoggedMessage, RecordedMessage } from './messageLedger.ts';
import { queuePrefixOf, renderLocalReal, type ShopCluster } from './shopWeb.ts';

/** The consumer the bench drives: product_action_attribute.update, batches of --max-messages 10. */
const consumerDeployment = 'm2-consumer-product-updates';
const consumerName = 'product_action_attribute.update';
const consumerSelector = `app.kubernetes.io/name=${consumerDeployment},app.kubernetes.io/component=consumer`;
/** The label consumerScaler discovers targets by: off here, so no scaler running on the cluster moves this copy. */
const scalingEnabledLabel = 'scaling.m2-eks-pipeline.io/enabled';
/**
 * SQS's default visibility timeout, set explicitly: how long a message received by a consumer that
 * died stays invisible before another consumer gets it.
 */
export const visibilityTimeoutSeconds = 30;

/** The stand-in's queue name for a consumer (bin/magento queueName()): dots and underscores become '-'. */
const queueNameOf = (namespace: string): string =>
  `${queuePrefixOf(namespace)}${consumerName.replaceAll(/[._]/g, '-')}`;

/** `consumer <name> processed message <id>`: bin/magento prints it after the message's DeleteMessage. */
const processedLine = /^consumer \S+ processed message (\S+)$/;

const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * One consumer Deployment of the example shop (as local-real renders it: consumer-run.sh as PID 1,
 * the preStop drain, its grace period) in the bench's namespace, its own SQS queue in moto, and the
 * two records its pods leave of every message: the stand-in's m2_consumed_message row (written after
 * the message's work) and the pods' log lines (printed after its DeleteMessage), followed live with
 * `kubectl logs -f` because a deleted pod's log goes with it.
 */
export class ShopConsumers {
  readonly #cluster: ShopCluster;
  readonly #namespace: string;
  readonly #sqs: SQSClient;
  readonly #db: ShopDatabase;
  readonly #queueUrl: string;
  /** Log lines per pod, from the latest follower of that pod (each re-reads the log from its start). */
  readonly #logs = new Map<string, LoggedMessage[]>();
  readonly #followers = new Map<string, ChildProcess>();
  #watching: Promise<void> | undefined;
  #stopped = false;

  private constructor(
    cluster: ShopCluster,
    namespace: string,
    sqs: SQSClient,
    db: ShopDatabase,
    queueUrl: string,
  ) {
    this.#cluster = cluster;
    this.#namespace = namespace;
    this.#sqs = sqs;
    this.#db = db;
    this.#queueUrl = queueUrl;
  }

  /**
   * Creates the queue, then the Deployment (`replicas` pods of `tag`; the web tier's ConfigMaps and
   * m2-secrets must exist), waits until they are Ready and starts following their logs.
   */
  static async deploy(
    cluster: ShopCluster,
    namespace: string,
    options: {
      readonly sqs: SQSClient;
      readonly db: ShopDatabase;
      readonly tag: ReleaseTag;
      readonly replicas: number;
    },
  ): Promise<ShopConsumers> {
    // Queue first: a consumer that starts before its queue exists fails its first batches.
    const created = await options.sqs.send(
      new CreateQueueCommand({
        QueueName: queueNameOf(namespace),
        Attributes: { VisibilityTimeout: String(visibilityTimeoutSeconds) },
      }),
    );
    if (created.QueueUrl === undefined) throw new Error(`moto created no queue ${queueNameOf(namespace)}`);
    const rendered = renderLocalReal().find(
      (o) => o.kind === 'Deployment' && o.metadata?.name === consumerDeployment,
    );
    if (rendered === undefined) throw new Error(`local-real renders no ${consumerDeployment}`);
    const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    await api.create(pinnedConsumer(rendered as V1Deployment, namespace, options));
    const consumers = new ShopConsumers(cluster, namespace, options.sqs, options.db, created.QueueUrl);
    await consumers.waitAtRest(options.replicas);
    consumers.#watching = consumers.#watch();
    return consumers;
  }

  /** Sends `count` messages of `workMs` each, tagged with `run`; returns their SQS message ids. */
  async send(run: string, count: number, workMs: number): Promise<string[]> {
    const ids: string[] = [];
    for (let first = 0; first < count; first += 10) {
      const sent = await this.#sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: Array.from({ length: Math.min(10, count - first) }, (_, i) => ({
            Id: `m${first + i}`,
            MessageBody: JSON.stringify({ product_ids: [first + i + 1], run, work_ms: workMs }),
          })),
        }),
      );
      if ((sent.Failed ?? []).length > 0)
        throw new Error(`${this.#queueUrl}: ${sent.Failed?.length} of a batch not sent`);
      ids.push(...(sent.Successful ?? []).map((m) => m.MessageId ?? ''));
    }
    return ids;
  }

  /** What the consumers recorded of `run`'s messages (m2_consumed_message). */
  recorded(run: string): RecordedMessage[] {
    return shopRows(
      this.#db,
      `SELECT message_id, host, deliveries FROM m2_consumed_message WHERE body LIKE '%"run":"${run}"%'`,
    ).map(([id = '', host = '', deliveries = '0']) => ({ id, host, deliveries: Number(deliveries) }));
  }

  /** Every `processed message` line the consumer pods logged so far (all runs). */
  logged(): LoggedMessage[] {
    return [...this.#logs.values()].flat();
  }

  /** Messages in the queue: visible plus received and not yet deleted (in flight). */
  async queued(): Promise<number> {
    const { Attributes: a } = await this.#sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.#queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(a?.ApproximateNumberOfMessages ?? 0) + Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  /** The consumer pods, oldest first. */
  async pods(): Promise<V1Pod[]> {
    const pods = await this.#cluster.core.listNamespacedPod({
      namespace: this.#namespace,
      labelSelector: consumerSelector,
    });
    return pods.items.sort(
      (a, b) =>
        (a.metadata?.creationTimestamp?.getTime() ?? 0) - (b.metadata?.creationTimestamp?.getTime() ?? 0),
    );
  }

  /** Sets the Deployment's replicas, as consumerScaler's scale write does. */
  async scale(replicas: number): Promise<void> {
    await kubectlAsync([
      '-n',
      this.#namespace,
      'scale',
      `deployment/${consumerDeployment}`,
      `--replicas=${replicas}`,
    ]);
  }

  /** Polls until `replicas` consumer pods are Ready and none is terminating. */
  async waitAtRest(replicas: number, timeoutMs = 240_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const pods = await this.pods();
      const terminating = pods.filter((p) => p.metadata?.deletionTimestamp !== undefined).length;
      const ready = pods.filter((p) => p.metadata?.deletionTimestamp === undefined && isReady(p)).length;
      if (terminating === 0 && ready === replicas && pods.length === replicas) return;
      last = `${pods.length} pods, ${ready} ready, ${terminating} terminating`;
      await sleep(1_000);
    }
    throw new Error(`${this.#namespace}/${consumerDeployment} not at rest after ${timeoutMs} ms (${last})`);
  }

  /** Stops following logs and deletes the queue (the namespace goes with the bench). */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#watching;
    for (const follower of this.#followers.values()) follower.kill();
    await this.#sqs.send(new DeleteQueueCommand({ QueueUrl: this.#queueUrl }));
  }

  /** Every second: a follower for each running consumer pod that has none (or whose follower ended). */
  async #watch(): Promise<void> {
    while (!this.#stopped) {
      try {
        for (const pod of await this.pods()) this.#follow(pod);
      } catch (error) {
        // The next round tries again; a follower missing for a second loses nothing (it reads from the start).
        console.error(`${this.#namespace}: listing consumer pods failed:`, error);
      }
      await sleep(1_000);
    }
  }

  #follow(pod: V1Pod): void {
    const name = pod.metadata?.name;
    const running = pod.status?.containerStatuses?.some((c) => c.state?.running !== undefined) ?? false;
    if (name === undefined || !running || this.#followers.has(name)) return;
    const lines: LoggedMessage[] = [];
    const follower = kubectlFollow(['-n', this.#namespace, 'logs', '-f', name, '-c', 'consumer'], (line) => {
      const id = processedLine.exec(line.trim())?.[1];
      if (id === undefined) return;
      lines.push({ id, host: name });
      // A replacement follower re-reads the log from its start: it counts once it caught up.
      if (lines.length >= (this.#logs.get(name)?.length ?? 0)) this.#logs.set(name, lines);
    });
    this.#followers.set(name, follower);
    follower.on('error', (error) => console.error(`kubectl logs -f ${name} failed:`, error));
    // Ends with the container (its lines stay); one the API dropped early is replaced on the next
    // round while the pod still runs.
    follower.on('exit', () => this.#followers.delete(name));
  }
}

/**
 * The overlay's consumer with a release, a fixed replica count and scaling off; nothing else of it
 * changes (wrapper, preStop drain, grace period, spread).
 */
function pinnedConsumer(
  deployment: V1Deployment,
  namespace: string,
  settings: { readonly tag: ReleaseTag; readonly replicas: number },
): KubernetesObject {
  const template = deployment.spec?.template;
  const pod = template?.spec;
  if (deployment.spec === undefined || template === undefined || pod === undefined)
    throw new Error(`the overlay's ${consumerDeployment} has no pod template`);
  const { [scalingEnabledLabel]: _scaling, ...labels } = deployment.metadata?.labels ?? {};
  return {
    ...deployment,
    metadata: { ...deployment.metadata, namespace, labels },
    spec: {
      ...deployment.spec,
      replicas: settings.replicas,
      template: {
        ...template,
        spec: {
          ...pod,
          containers: pod.containers.map((c) => ({ ...c, image: releaseImage(settings.tag) })),
        },
      },
    },
  } as KubernetesObject;
}
