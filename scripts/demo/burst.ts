/**
 * Demo step 4.3 (issue 8): a burst of messages on a consumer queue, a simulated consumer that
 * drains it at a rate proportional to the Ready pods, and consumerScaler — woken as in AWS by the
 * backlog alarm's state change and the backstop schedule — scaling the Deployment up and back to
 * zero. `runBurst` streams a live timeline through `progress` and returns it.
 *
 * Runs against whatever `source .local/env` points at (moto + the embedded cluster); the caller
 * owns the consumerScaler LambdaHost (created with `burstScalerEnv`).
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { ClusterClient } from '../../lib/k8s/clusterClient.ts';
import { connectCluster } from '../../lib/k8s/connection.ts';
import { patchDeployment, readDeployment } from '../../lib/k8s/deployments.ts';
import { NotFoundError } from '../../lib/k8s/errors.ts';
import { readScale, writeScale } from '../../lib/k8s/scale.ts';
import { targetAnnotations } from '../../lib/scaling/annotations.ts';
import { queueNameOf } from '../../lib/scaling/target.ts';
import {
  type AlarmState,
  alarmStateChangeEvent,
  alarmTransition,
  consumeQuota,
  defaultRatePerReadyPod,
  formatSample,
  formatTimeline,
  scheduledEvent,
  seconds,
  summarizeBurst,
} from './burst/model.ts';
import type { LambdaHost } from './lambdaHost.ts';

export interface BurstSample {
  readonly atS: number;
  readonly visible: number;
  readonly inFlight: number;
  readonly specReplicas: number;
  readonly readyReplicas: number;
  readonly consumed: number;
}

export interface ScalerCall {
  /** When EventBridge delivered the event (the host may start it later if an invocation runs). */
  readonly atS: number;
  readonly trigger: 'alarm' | 'schedule';
  readonly durationMs: number;
  /** Replica changes of the burst's Deployment made by this invocation (other targets left out). */
  readonly changes: readonly { from: number; to: number }[];
  readonly error?: string;
  /** Reconcile passes of the invocation. */
  readonly passes?: number;
  readonly stoppedBecause?: string;
}

export interface BurstResult {
  readonly namespace: string;
  readonly deployment: string;
  readonly queueUrl: string;
  readonly messages: number;
  readonly sendSeconds: number;
  readonly samples: readonly BurstSample[];
  readonly scalerCalls: readonly ScalerCall[];
  readonly firstScaleUpS?: number;
  readonly peakReplicas: number;
  readonly drainedAtS?: number;
  readonly zeroAtS?: number;
  readonly totalS: number;
  /** The cooldown the step set on the Deployment (annotation) for the demo. */
  readonly cooldownSeconds: number;
  readonly scheduleIntervalS: number;
  readonly ratePerReadyPod: number;
  /** True when timeoutS ran out before the queue was drained and the Deployment back at zero. */
  readonly timedOut: boolean;
  /** What the step changed or compressed for the demo, and anything that went wrong; for the report. */
  readonly notes: readonly string[];
}

export interface BurstOptions {
  readonly messages: number;
  readonly namespace: string;
  readonly deployment: string;
  readonly queueUrl: string;
  readonly scaler: LambdaHost;
  readonly progress: (line: string) => void;
  /** Messages one Ready pod processes per second; default 7 (10 pods drain 10,000 in ≈ 2.4 min). */
  readonly ratePerReadyPod?: number;
  /** Give up after this long (default 360 s): the result then has no zeroAtS and `timedOut`. */
  readonly timeoutS?: number;
  readonly signal?: AbortSignal;
  /** Set on the Deployment's cooldown annotation before the burst (default 30; the manifests say 300). */
  readonly cooldownSeconds?: number;
  /** The backstop schedule's period (default 60, as in serverless.yml's rate(1 minute)). */
  readonly scheduleIntervalS?: number;
  /** How long a received message stays in flight before the consumer deletes it (default 1000 ms). */
  readonly processingMs?: number;
  /** Set the Deployment to 0 replicas first when it is not (default true; a new Deployment starts at 1). */
  readonly startFromZero?: boolean;
}

/**
 * consumerScaler's environment for this step, on top of its role (`EKS_ASSUME_ROLE_ARN`): the
 * scale-down window shortened from 180 s to 30 s, so the Deployment reaches zero within the
 * demo's minutes (with 180 s it stays at its peak for three minutes after the drain). Everything
 * else is the production default (10 s passes for up to 50 s per invocation, 2 confirming reads).
 */
export const burstScalerEnv: Readonly<Record<string, string>> = Object.freeze({
  SCALER_SCALE_DOWN_WINDOW_SECONDS: '30',
});

/** The consumer's Lambda timeout (serverless.yml): the longest an invocation can still take at the end. */
const scalerTimeoutMs = 70_000;

/** The burst step could not run: the queue or the Deployment is missing or does not match. */
export class BurstSetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BurstSetupError';
  }
}

/** The replicas the observer last read from the Deployment. */
interface ReplicaReading {
  readonly spec: number;
  readonly ready: number;
}

/** Sleeps, but wakes at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * Runs the burst and returns its timeline. Throws BurstSetupError when the queue or Deployment is
 * missing; consumerScaler's own errors are recorded in `scalerCalls` and shown, never thrown.
 * Rejects with the signal's reason when `signal` aborts (after stopping its loops).
 *
 * @example
 * const scaler = new LambdaHost('consumerScaler', { env: { EKS_ASSUME_ROLE_ARN: role, ...burstScalerEnv }, timeoutMs: 70_000, logDir });
 * const result = await runBurst({ messages: 10_000, namespace: 'example-shop', deployment: 'm2-consumer-product-updates', queueUrl, scaler, progress: (l) => (task.output = l) });
 */
export async function runBurst(options: BurstOptions): Promise<BurstResult> {
  const { messages, namespace, deployment, queueUrl, scaler, progress } = options;
  const ratePerReadyPod = options.ratePerReadyPod ?? defaultRatePerReadyPod;
  const timeoutS = options.timeoutS ?? 360;
  const cooldownSeconds = options.cooldownSeconds ?? 30;
  const scheduleIntervalS = options.scheduleIntervalS ?? 60;
  const processingMs = options.processingMs ?? 1000;
  if (!Number.isInteger(messages) || messages < 1)
    throw new RangeError(`messages must be ≥ 1, not ${messages}`);

  const ref = { namespace, name: deployment };
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    progress(line);
  };
  const sqs = new SQSClient({
    // Queue URLs in the manifests are AWS-shaped; with an endpoint override the requests must go there.
    useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
    maxAttempts: 3,
  });
  // moto changes a queue's message list without a lock: two deletes at once can bring a deleted
  // message back, two receives can hand out the same one, a send during a delete can be lost. So
  // the calls that change the queue (send, receive, delete, purge) go one at a time; reads need not.
  let queueChanges: Promise<unknown> = Promise.resolve();
  const changeQueue = <T>(change: () => Promise<T>): Promise<T> => {
    const next = queueChanges.then(change, change);
    queueChanges = next.catch(() => undefined);
    return next;
  };
  // The observer reads (and prepares) the Deployment as the admin; the scaler acts as its own role.
  const kubeconfig = process.env.KUBECONFIG;
  const cluster = await connectCluster({ kind: 'kubeconfig', ...(kubeconfig ? { path: kubeconfig } : {}) });

  try {
    await prepare();
    return await run();
  } finally {
    sqs.destroy();
  }

  async function queueDepth(): Promise<{ visible: number; inFlight: number }> {
    try {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    } catch (error) {
      if (error instanceof Error && /QueueDoesNotExist|NonExistentQueue/.test(error.name)) {
        throw new BurstSetupError(
          `queue ${queueUrl} does not exist (run scripts/local/example-shop.ts to create the shop's queues)`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async function purge(why: string): Promise<void> {
    await changeQueue(() => sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl })));
    note(`purged ${queueNameOf(queueUrl)}: ${why}`);
  }

  /** Checks queue and Deployment, sets the demo cooldown, starts from an empty queue and zero replicas. */
  async function prepare(): Promise<void> {
    const depth = await queueDepth();
    let target: Awaited<ReturnType<typeof readDeployment>>;
    try {
      target = await readDeployment(cluster, ref);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new BurstSetupError(`Deployment ${namespace}/${deployment} does not exist`, { cause: error });
      }
      throw error;
    }
    const declared = target.metadata?.annotations?.[targetAnnotations.queueUrl];
    if (declared === undefined || queueNameOf(declared) !== queueNameOf(queueUrl)) {
      throw new BurstSetupError(
        `Deployment ${namespace}/${deployment} scales on ${declared ?? 'no queue'} (${targetAnnotations.queueUrl}), not on ${queueUrl}`,
      );
    }
    if (depth.visible + depth.inFlight > 0) {
      await purge(`it held ${depth.visible + depth.inFlight} messages from before`);
    }
    await patchDeployment(
      cluster,
      ref,
      { metadata: { annotations: { [targetAnnotations.cooldownSeconds]: String(cooldownSeconds) } } },
      'merge',
    );
    const declaredCooldown = target.metadata?.annotations?.[targetAnnotations.cooldownSeconds];
    note(
      `${deployment}: cooldown annotation ${declaredCooldown ?? 'unset'} s → ${cooldownSeconds} s for the demo (declared on the Deployment, no redeploy)`,
    );
    const scale = await readScale(cluster, ref);
    if (scale.replicas > 0 && (options.startFromZero ?? true)) {
      await writeScale(cluster, ref, 0, scale.resourceVersion);
      note(
        `${deployment}: ${scale.replicas} → 0 replicas first, so the burst starts from a drained consumer`,
      );
    }
    await waitForReplicas(cluster, { spec: 0, ready: 0 }, 30_000);
    note(
      `${messages.toLocaleString('en-US')} messages → ${queueNameOf(queueUrl)}; consumer ${ratePerReadyPod} msg/s per Ready pod; ` +
        `consumerScaler woken by the backlog alarm (ALARM on visible ≥ 1) and the backstop schedule every ${scheduleIntervalS} s`,
    );
  }

  async function waitForReplicas(c: ClusterClient, want: ReplicaReading, deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const d = await readDeployment(c, ref);
      const spec = d.spec?.replicas ?? 1;
      const ready = d.status?.readyReplicas ?? 0;
      if (spec === want.spec && ready === want.ready) return;
      if (Date.now() > until) {
        throw new BurstSetupError(
          `${namespace}/${deployment} did not reach ${want.ready}/${want.spec} ready replicas within ${deadlineMs / 1000} s (${ready}/${spec})`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function run(): Promise<BurstResult> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const t0 = performance.now();
    const wall0 = Date.now();
    const at = () => Math.round((performance.now() - t0) / 100) / 10;

    let replicas: ReplicaReading = { spec: 0, ready: 0 };
    let consumed = 0;
    let sendSeconds: number | undefined;
    let failure: unknown;
    const fail = (error: unknown) => {
      failure ??= error;
      stop.abort();
    };

    // consumerScaler invocations, as EventBridge would deliver them.
    const scalerCalls: ScalerCall[] = [];
    const pending = new Set<Promise<void>>();
    // Set when the step returns: an invocation finishing later is neither recorded nor shown.
    let closed = false;
    const invokeScaler = (trigger: ScalerCall['trigger'], event: unknown) => {
      const atS = at();
      const call = scaler
        .invoke<{
          passes?: number;
          stoppedBecause?: string;
          changes?: { namespace: string; deployment: string; from: number; to: number }[];
        }>(event)
        .then(
          (invocation) => {
            if (closed) return;
            const changes = (invocation.result?.changes ?? [])
              .filter((c) => c.namespace === namespace && c.deployment === deployment)
              .map(({ from, to }) => ({ from, to }));
            const error =
              invocation.error === undefined
                ? undefined
                : `${invocation.error.name}: ${invocation.error.message}`;
            scalerCalls.push({
              atS,
              trigger,
              durationMs: invocation.durationMs,
              changes,
              ...(error === undefined ? {} : { error }),
              ...(invocation.result?.passes === undefined ? {} : { passes: invocation.result.passes }),
              ...(invocation.result?.stoppedBecause === undefined
                ? {}
                : { stoppedBecause: invocation.result.stoppedBecause }),
            });
            const what =
              error ??
              (changes.length === 0 ? 'no change' : changes.map((c) => `${c.from} → ${c.to}`).join(', '));
            progress(
              `t=${seconds(at())}s  consumerScaler (${trigger} at ${seconds(atS)} s) done in ${(
                invocation.durationMs / 1000
              ).toFixed(1)} s: ${what}`,
            );
          },
          (error: unknown) => {
            if (closed) return;
            // The host itself failed (not the handler): recorded like a function error.
            scalerCalls.push({ atS, trigger, durationMs: 0, changes: [], error: errorText(error) });
            progress(`t=${seconds(at())}s  consumerScaler (${trigger}) failed: ${errorText(error)}`);
          },
        );
      pending.add(call);
      void call.finally(() => pending.delete(call));
    };

    // The simulated consumer: every 250 ms, Ready pods × rate messages, each deleted after processingMs.
    const consumerLoop = async () => {
      let carry = 0;
      let last = performance.now();
      const processing: { due: number; entries: { Id: string; ReceiptHandle: string }[] }[] = [];
      let errors = 0;
      const deleteDue = async (all: boolean) => {
        const now = performance.now();
        const ready = processing.filter((b) => all || b.due <= now);
        processing.splice(0, ready.length);
        const deleted = await Promise.all(
          ready.map((b) =>
            changeQueue(() =>
              sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: b.entries })),
            ),
          ),
        );
        for (const out of deleted) consumed += out.Successful?.length ?? 0;
      };
      while (!stop.signal.aborted) {
        try {
          const d = await readDeployment(cluster, ref);
          replicas = { spec: d.spec?.replicas ?? 1, ready: d.status?.readyReplicas ?? 0 };
          const now = performance.now();
          const quota = consumeQuota({
            readyPods: replicas.ready,
            elapsedMs: now - last,
            ratePerReadyPod,
            carry,
          });
          last = now;
          carry = quota.carry;
          // Ten messages per receive at most.
          const calls = Array.from({ length: Math.ceil(quota.take / 10) }, (_, i) =>
            Math.min(10, quota.take - i * 10),
          );
          const batches = await Promise.all(
            calls.map(async (max) => {
              const out = await changeQueue(() =>
                sqs.send(
                  new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: max,
                    VisibilityTimeout: 60,
                    WaitTimeSeconds: 0,
                  }),
                ),
              );
              return (out.Messages ?? []).flatMap((m, i) =>
                m.ReceiptHandle === undefined ? [] : [{ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle }],
              );
            }),
          );
          const due = performance.now() + processingMs;
          for (const entries of batches) if (entries.length > 0) processing.push({ due, entries });
          await deleteDue(false);
          errors = 0;
        } catch (error) {
          // A transient error costs a tick; a lasting one ends the step with it.
          if (++errors >= 20) return fail(error);
        }
        await pause(250, stop.signal);
      }
      // Messages being processed are finished, as a consumer's preStop lets its batch finish.
      await deleteDue(true).catch(() => undefined);
    };

    const sender = async () => {
      const started = performance.now();
      // Two senders, as a catalogue import's workers would send (each call still goes alone to moto).
      let next = 0;
      const worker = async () => {
        for (let sent = next; sent < messages && !stop.signal.aborted; sent = next) {
          next += 10;
          const entries = Array.from({ length: Math.min(10, messages - sent) }, (_, i) => ({
            Id: `m${i}`,
            MessageBody: JSON.stringify({ product_ids: [sent + i + 1], attributes: { status: 1 } }),
          }));
          const out = await changeQueue(() =>
            sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })),
          );
          if ((out.Failed ?? []).length > 0) {
            throw new Error(
              `SendMessageBatch to ${queueUrl} failed for ${out.Failed?.length} entries: ${out.Failed?.[0]?.Message}`,
            );
          }
        }
      };
      await Promise.all(Array.from({ length: 2 }, worker));
      sendSeconds = Math.round((performance.now() - started) / 100) / 10;
      progress(
        `t=${seconds(at())}s  sent ${messages.toLocaleString('en-US')} messages in ${seconds(sendSeconds)} s`,
      );
    };

    // Once a second: a sample, the alarm's evaluation, the schedule.
    const samples: BurstSample[] = [];
    let alarm: AlarmState = 'OK';
    let alarmSince = new Date(wall0);
    let nextScheduleS = scheduleIntervalS;
    let timedOut = false;
    const sampler = async () => {
      let errors = 0;
      for (let tick = 1; !stop.signal.aborted; tick++) {
        try {
          const depth = await queueDepth();
          const sample: BurstSample = {
            atS: at(),
            visible: depth.visible,
            inFlight: depth.inFlight,
            specReplicas: replicas.spec,
            readyReplicas: replicas.ready,
            consumed,
          };
          const previous = samples.at(-1);
          samples.push(sample);
          if (previous !== undefined && previous.specReplicas !== sample.specReplicas) {
            progress(
              `t=${seconds(sample.atS)}s  ${deployment}: desired replicas ${previous.specReplicas} → ${sample.specReplicas}`,
            );
          }
          progress(formatSample(sample));

          const changed = alarmTransition(alarm, depth.visible);
          if (changed !== undefined) {
            const now = new Date(wall0 + sample.atS * 1000);
            const event = alarmStateChangeEvent({
              state: changed,
              previousState: alarm,
              at: now,
              previousAt: alarmSince,
              value: depth.visible,
            });
            alarm = changed;
            alarmSince = now;
            // The EventBridge rule matches ALARM only: the return to OK wakes nobody.
            if (changed === 'ALARM') {
              progress(
                `t=${seconds(sample.atS)}s  backlog alarm → ALARM (${depth.visible} visible): invoking consumerScaler`,
              );
              invokeScaler('alarm', event);
            } else {
              progress(
                `t=${seconds(sample.atS)}s  backlog alarm → OK (the rule matches ALARM only: no invocation)`,
              );
            }
          }
          if (sample.atS >= nextScheduleS) {
            nextScheduleS += scheduleIntervalS;
            progress(`t=${seconds(sample.atS)}s  backstop schedule: invoking consumerScaler`);
            invokeScaler('schedule', scheduledEvent(new Date(wall0 + sample.atS * 1000)));
          }

          const drained = sendSeconds !== undefined && depth.visible === 0 && depth.inFlight === 0;
          if (drained && replicas.spec === 0 && replicas.ready === 0) return stop.abort();
          if (sample.atS >= timeoutS) {
            timedOut = true;
            return stop.abort();
          }
          errors = 0;
        } catch (error) {
          if (error instanceof BurstSetupError || ++errors >= 10) return fail(error);
        }
        await pause(Math.max(0, tick * 1000 - (performance.now() - t0)), stop.signal);
      }
    };

    try {
      await Promise.all([sender().catch(fail), consumerLoop(), sampler()]);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined || options.signal?.aborted) {
      // Leave the queue empty, so an invocation still running scales the Deployment back down.
      closed = true;
      await changeQueue(() => sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }))).catch(() => undefined);
      if (failure !== undefined) throw failure;
      options.signal?.throwIfAborted();
    }

    // On success an invocation still running is awaited (it stops soon after the scale to zero),
    // so its changes are recorded; bounded by the function's timeout. After a timeout it is not.
    if (pending.size > 0 && !timedOut) {
      progress(`t=${seconds(at())}s  waiting for ${pending.size} consumerScaler invocation(s) to finish`);
      const deadline = new Promise<void>((r) => setTimeout(r, scalerTimeoutMs).unref());
      await Promise.race([Promise.all(pending), deadline]);
    }
    if (pending.size > 0)
      note(`${pending.size} consumerScaler invocation(s) still running at the end (not recorded)`);
    closed = true;
    const left = await queueDepth();
    if (left.visible + left.inFlight > 0)
      await purge(`${left.visible + left.inFlight} messages left at the end`);

    const totalS = at();
    const timeline = summarizeBurst(samples, sendSeconds ?? totalS);
    if (timedOut) {
      note(
        `timed out after ${timeoutS} s: ${
          timeline.drainedAtS === undefined
            ? 'the queue was not drained'
            : `drained at ${timeline.drainedAtS} s`
        }, replicas ${replicas.ready}/${replicas.spec} — not back at zero`,
      );
    }
    progress(formatTimeline({ ...timeline, totalS }));
    return {
      namespace,
      deployment,
      queueUrl,
      messages,
      sendSeconds: sendSeconds ?? totalS,
      samples,
      scalerCalls: [...scalerCalls].sort((a, b) => a.atS - b.atS),
      ...timeline,
      totalS,
      cooldownSeconds,
      scheduleIntervalS,
      ratePerReadyPod,
      timedOut,
      notes,
    };
  }
}
