/**
 * Demo step 4.3 (issue 8): a burst of messages on a consumer queue, drained by the consumer
 * Deployment's own pods on real nodes or, on KWOK (whose pods run nothing), by a simulated consumer
 * at a rate proportional to the Ready pods, and consumerScaler — invoked as in AWS only by its
 * 1-minute schedule, which runs from before the burst as it does all day, each invocation's idle
 * watch reading the queues between reconciles — scaling the Deployment up and back to zero.
 * `runBurst` streams a live timeline through `progress` and returns it, with how the scaler was
 * woken as its own logs tell it.
 *
 * Runs against whatever `source .local/env` points at (moto + the embedded cluster); the caller
 * owns the consumerScaler LambdaHost (created with `burstScalerEnv`).
 */

import { randomUUID } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import type { ClusterClient } from '../../lib/k8s/clusterClient.ts';
import { connectCluster } from '../../lib/k8s/connection.ts';
import { patchDeployment, readDeployment } from '../../lib/k8s/deployments.ts';
import { NotFoundError } from '../../lib/k8s/errors.ts';
import type { ObjectRef } from '../../lib/k8s/objectRef.ts';
import { updateScale } from '../../lib/k8s/scale.ts';
import { targetAnnotations } from '../../lib/scaling/annotations.ts';
import { queueNameOf } from '../../lib/scaling/target.ts';
import { SimulatedConsumer } from './burst/consumer.ts';
import type { BurstDeliveries, BurstDrain } from './burst/drain.ts';
import { BurstSetupError } from './burst/errors.ts';
import {
  defaultRatePerReadyPod,
  formatSample,
  formatTimeline,
  formatWake,
  nextScheduleS,
  type ScalerCall,
  type ScalerLogEntry,
  type ScalerWake,
  scalerLogEntry,
  scheduledEvent,
  seconds,
  summarizeBurst,
  timedChanges,
  wakeOf,
} from './burst/model.ts';
import { BurstQueue } from './burst/queue.ts';
import type { LambdaHost } from './lambdaHost.ts';

export { BurstSetupError } from './burst/errors.ts';

export interface BurstSample {
  readonly atS: number;
  readonly visible: number;
  readonly inFlight: number;
  readonly specReplicas: number;
  readonly readyReplicas: number;
  readonly consumed: number;
}

export interface BurstResult {
  readonly namespace: string;
  readonly deployment: string;
  readonly queueUrl: string;
  readonly messages: number;
  readonly sendSeconds: number;
  readonly samples: readonly BurstSample[];
  /** Every scheduled invocation of the step, the ones before the burst included (negative `atS`). */
  readonly scalerCalls: readonly ScalerCall[];
  /** How the scaler came to scale up the first time (the schedule's event, the idle watch's read). */
  readonly wake?: ScalerWake;
  readonly firstScaleUpS?: number;
  readonly peakReplicas: number;
  readonly drainedAtS?: number;
  readonly zeroAtS?: number;
  readonly totalS: number;
  /** The cooldown the step set on the Deployment (annotation) for the demo. */
  readonly cooldownSeconds: number;
  readonly scheduleIntervalS: number;
  /** The schedule's first event came this long before the burst (the burst landed this far into its minute). */
  readonly scheduleLeadS: number;
  readonly ratePerReadyPod: number;
  /** True when timeoutS ran out before the queue was drained and the Deployment back at zero. */
  readonly timedOut: boolean;
  /** Who drained the queue (BurstDrain's description). */
  readonly drainedBy: string;
  /** The burst's messages as the consumers recorded them (consumer pods only). */
  readonly deliveries?: BurstDeliveries;
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
  /** The schedule's period (default 60, as in serverless.yml's rate(1 minute)). */
  readonly scheduleIntervalS?: number;
  /**
   * The schedule runs from this long before the burst, as it runs all day, so the burst lands this
   * far into a minute whose invocation is already watching (default: random, 0 to the interval).
   */
  readonly scheduleLeadS?: number;
  /** How long a received message stays in flight before the consumer deletes it (default 1000 ms). */
  readonly processingMs?: number;
  /** Set the Deployment to 0 replicas first when it is not (default true; a new Deployment starts at 1). */
  readonly startFromZero?: boolean;
  /** How long the consumer's pods may take to be gone after that scale to 0 (default 30 s; KWOK needs 1). */
  readonly zeroTimeoutMs?: number;
  /**
   * Who takes the messages off the queue, for the burst's run id (it is in every message body):
   * default the simulated consumer at `ratePerReadyPod` (KWOK pods run nothing); on real nodes the
   * consumer pods themselves (burst/consumerPods.ts).
   */
  readonly drain?: (run: string, queue: BurstQueue) => BurstDrain;
}

/**
 * consumerScaler's environment for this step, on top of what serverless.yml gives it (functionEnv's
 * `functionSettings`, with its role): the scale-down window shortened from 180 s to 30 s, so the
 * Deployment reaches zero within the demo's minutes (with 180 s it stays at its peak for three
 * minutes after the drain). Everything else is as deployed, the idle watch included: serverless.yml
 * sets none of its variables, so the function's defaults apply (reads every 3 s until 58 s into the
 * invocation, passes every 10 s while busy, 2 confirming reads).
 */
export const burstScalerEnv: Readonly<Record<string, string>> = Object.freeze({
  SCALER_SCALE_DOWN_WINDOW_SECONDS: '30',
});

/** consumerScaler's Lambda timeout (serverless.yml): the longest a running invocation can still take. */
const scalerTimeoutMs = 70_000;

/** The replicas the observer last read from the Deployment. */
interface ReplicaReading {
  readonly spec: number;
  readonly ready: number;
}

const replicasOf = (d: V1Deployment): ReplicaReading => ({
  spec: d.spec?.replicas ?? 1,
  ready: d.status?.readyReplicas ?? 0,
});

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

const count = (n: number): string => n.toLocaleString('en-US');

/** An invocation as the host returned it, before its log lines are joined to it (`ScalerCall`). */
type FinishedCall = Omit<ScalerCall, 'wakes'> & { readonly requestId?: string };

/** What consumerScaler's handler returns (functions/consumerScaler.ts). */
interface ScalerRunResult {
  readonly passes?: number;
  readonly stoppedBecause?: string;
  readonly changes?: readonly { namespace: string; deployment: string; from: number; to: number }[];
}

/**
 * Runs the burst and returns its timeline. Throws BurstSetupError when the queue or Deployment is
 * missing; consumerScaler's own errors are recorded in `scalerCalls` and shown, never thrown.
 * Rejects with the signal's reason when `signal` aborts (after stopping its loops and emptying
 * the queue). Never runs longer than the schedule's lead, `timeoutS` and the wait for a running
 * invocation (≤ 70 s).
 *
 * @example
 * const fn = functionSettings('consumerScaler');
 * const scaler = new LambdaHost('consumerScaler', { env: { ...fn.env, ...burstScalerEnv }, timeoutMs: fn.timeoutMs, logDir });
 * const result = await runBurst({ messages: 10_000, namespace: 'example-shop', deployment: 'm2-consumer-product-updates', queueUrl, scaler, progress: (l) => (task.output = l) });
 */
export async function runBurst(options: BurstOptions): Promise<BurstResult> {
  const settings = {
    ratePerReadyPod: options.ratePerReadyPod ?? defaultRatePerReadyPod,
    timeoutS: options.timeoutS ?? 360,
    cooldownSeconds: options.cooldownSeconds ?? 30,
    scheduleIntervalS: options.scheduleIntervalS ?? 60,
    processingMs: options.processingMs ?? 1000,
  };
  const scheduleLeadS =
    options.scheduleLeadS ?? Math.round(Math.random() * settings.scheduleIntervalS * 10) / 10;
  if (!Number.isInteger(options.messages) || options.messages < 1)
    throw new RangeError(`messages must be a whole number ≥ 1, not ${options.messages}`);
  if (!(settings.scheduleIntervalS > 0) || !(settings.ratePerReadyPod > 0))
    throw new RangeError('scheduleIntervalS and ratePerReadyPod must be > 0');
  if (!(scheduleLeadS >= 0)) throw new RangeError(`scheduleLeadS must be ≥ 0, not ${scheduleLeadS}`);

  const queue = new BurstQueue(options.queueUrl);
  try {
    // The observer reads (and prepares) the Deployment as the admin; the scaler acts as its own role.
    const kubeconfig = process.env.KUBECONFIG;
    const cluster = await connectCluster({ kind: 'kubeconfig', ...(kubeconfig ? { path: kubeconfig } : {}) });
    const notes: string[] = [];
    const note = (line: string) => {
      notes.push(line);
      options.progress(line);
    };
    const run = `burst-${randomUUID().slice(0, 8)}`;
    const drain =
      options.drain?.(run, queue) ??
      new SimulatedConsumer(queue, {
        ratePerReadyPod: settings.ratePerReadyPod,
        processingMs: settings.processingMs,
      });
    const all = { ...settings, scheduleLeadS };
    await prepare(options, all, queue, cluster, note, drain.description);
    return await burst(options, all, { queue, cluster, drain, run }, notes, note);
  } finally {
    queue.destroy();
  }
}

type Settings = Required<
  Pick<
    BurstOptions,
    | 'ratePerReadyPod'
    | 'timeoutS'
    | 'cooldownSeconds'
    | 'scheduleIntervalS'
    | 'scheduleLeadS'
    | 'processingMs'
  >
>;

/** Checks queue and Deployment belong together, sets the demo cooldown, starts from an empty queue and zero replicas. */
async function prepare(
  options: BurstOptions,
  settings: Settings,
  queue: BurstQueue,
  cluster: ClusterClient,
  note: (line: string) => void,
  drainedBy: string,
): Promise<void> {
  const { namespace, deployment, queueUrl } = options;
  const ref: ObjectRef = { namespace, name: deployment };
  const depth = await queue.depth();
  let target: V1Deployment;
  try {
    target = await readDeployment(cluster, ref);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new BurstSetupError(`Deployment ${namespace}/${deployment} does not exist`, { cause: error });
    }
    throw error;
  }
  const annotations = target.metadata?.annotations ?? {};
  const declared = annotations[targetAnnotations.queueUrl];
  if (declared === undefined || queueNameOf(declared) !== queueNameOf(queueUrl)) {
    throw new BurstSetupError(
      `Deployment ${namespace}/${deployment} scales on ${declared ?? 'no queue'} (${targetAnnotations.queueUrl}), not on ${queueUrl}`,
    );
  }
  if (depth.visible + depth.inFlight > 0) {
    await queue.purge();
    note(
      `purged ${queueNameOf(queueUrl)}: it held ${count(depth.visible + depth.inFlight)} messages from before`,
    );
  }
  await patchDeployment(
    cluster,
    ref,
    { metadata: { annotations: { [targetAnnotations.cooldownSeconds]: String(settings.cooldownSeconds) } } },
    'merge',
  );
  note(
    `${deployment}: cooldown annotation ${annotations[targetAnnotations.cooldownSeconds] ?? 'unset'} s → ${settings.cooldownSeconds} s for the demo (declared on the Deployment, no redeploy)`,
  );
  if (options.startFromZero ?? true) {
    // Read–decide–write with retries: the Deployment controller writes the same object (status).
    const update = await updateScale(cluster, ref, () => 0);
    if (update.changed) {
      note(
        `${deployment}: ${update.previousReplicas} → 0 replicas first, so the burst starts from a drained consumer`,
      );
    }
    await waitForNoPods(cluster, ref, options.zeroTimeoutMs ?? 30_000);
  }
  note(
    `${count(options.messages)} messages → ${queueNameOf(queueUrl)}; drained by ${drainedBy}; ` +
      `consumerScaler invoked only by its schedule, every ${settings.scheduleIntervalS} s from ${seconds(settings.scheduleLeadS)} s before the burst ` +
      `(as all day: the burst lands that far into a minute whose invocation already runs); between reconciles each invocation's idle watch reads the queues`,
  );
}

/** Polls until the Deployment has neither desired nor Ready replicas (KWOK removes a pod within a second). */
async function waitForNoPods(cluster: ClusterClient, ref: ObjectRef, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = replicasOf(await readDeployment(cluster, ref));
    if (r.spec === 0 && r.ready === 0) return;
    if (Date.now() > until) {
      throw new BurstSetupError(
        `${ref.namespace}/${ref.name} still has ${r.ready}/${r.spec} ready replicas ${timeoutMs / 1000} s after scaling to 0`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The step itself: sender, the drain's ticks and the once-a-second sampler, until zero or timeout. */
async function burst(
  options: BurstOptions,
  settings: Settings,
  parts: { queue: BurstQueue; cluster: ClusterClient; drain: BurstDrain; run: string },
  notes: string[],
  note: (line: string) => void,
): Promise<BurstResult> {
  const { queue, cluster, drain: consumer, run } = parts;
  const { messages, namespace, deployment, queueUrl, scaler, progress } = options;
  const ref: ObjectRef = { namespace, name: deployment };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // t = 0 is the burst; the schedule starts scheduleLeadS before it (negative times).
  const leadMs = settings.scheduleLeadS * 1000;
  const t0 = performance.now() + leadMs;
  const wall0 = Date.now() + leadMs;
  const at = () => Math.round((performance.now() - t0) / 100) / 10;
  const line = (atS: number, text: string) => progress(`t=${seconds(atS)}s  ${text}`);

  let replicas: ReplicaReading = { spec: 0, ready: 0 };
  let sendSeconds: number | undefined;
  let timedOut = false;
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    stop.abort();
  };

  // consumerScaler invocations, delivered as EventBridge would, and what their log lines say.
  const finished: FinishedCall[] = [];
  const pending = new Set<Promise<void>>();
  // Set when the step returns: an invocation finishing later is neither recorded nor shown.
  let closed = false;
  const logged = new Map<string, ScalerLogEntry[]>();
  const unlisten = scaler.listen((raw) => {
    const entry = scalerLogEntry(raw, wall0, { namespace, deployment });
    if (entry === undefined || closed) return;
    logged.set(entry.requestId, [...(logged.get(entry.requestId) ?? []), entry]);
    if (entry.kind === 'wake')
      line(entry.atS, `consumerScaler's idle watch saw work on ${entry.queue} (read ${entry.rounds})`);
  });
  const invokeScaler = (event: unknown) => {
    const atS = at();
    // The host runs one invocation at a time: an event delivered while one runs starts after it.
    if (pending.size > 0)
      line(atS, 'the previous consumerScaler invocation still runs: this event waits for it');
    const record = (call: FinishedCall) => {
      if (closed) return;
      finished.push(call);
      const what =
        call.error ??
        (call.changes.length === 0 ? 'no change' : call.changes.map((c) => `${c.from} → ${c.to}`).join(', '));
      const started = call.startedAtS - call.atS >= 0.5 ? `, started at ${seconds(call.startedAtS)} s` : '';
      line(
        at(),
        `consumerScaler (schedule at ${seconds(atS)} s${started}) done in ${(call.durationMs / 1000).toFixed(1)} s: ${what}`,
      );
    };
    const call = scaler.invoke<ScalerRunResult>(event).then(
      ({ queuedMs, durationMs, requestId, result, error }) =>
        record({
          atS,
          startedAtS: Math.round((atS + queuedMs / 1000) * 10) / 10,
          durationMs,
          ...(requestId === undefined ? {} : { requestId }),
          changes: (result?.changes ?? [])
            .filter((c) => c.namespace === namespace && c.deployment === deployment)
            .map(({ from, to }) => ({ from, to })),
          ...(error === undefined ? {} : { error: `${error.name}: ${error.message}` }),
          ...(result?.passes === undefined ? {} : { passes: result.passes }),
          ...(result?.stoppedBecause === undefined ? {} : { stoppedBecause: result.stoppedBecause }),
        }),
      // The host itself failed (not the handler): recorded like a function error.
      (error: unknown) =>
        record({ atS, startedAtS: atS, durationMs: 0, changes: [], error: errorText(error) }),
    );
    pending.add(call);
    void call.finally(() => pending.delete(call));
  };
  // Each finished invocation with its log lines: idle-watch wake-ups, and the times of its changes.
  const withLogs = ({ requestId, changes, ...call }: FinishedCall): ScalerCall => {
    const entries = (requestId === undefined ? undefined : logged.get(requestId)) ?? [];
    return {
      ...call,
      changes: timedChanges(
        changes,
        entries.flatMap((e) => (e.kind === 'scaled' ? [e] : [])),
      ),
      wakes: entries.flatMap((e) =>
        e.kind === 'wake' ? [{ atS: e.atS, queue: e.queue, rounds: e.rounds }] : [],
      ),
    };
  };

  // The schedule: an event every scheduleIntervalS from scheduleLeadS before the burst, until the end.
  const schedule = async () => {
    const firstS = -settings.scheduleLeadS;
    for (let nextS = firstS; !stop.signal.aborted; ) {
      await pause(Math.max(0, t0 + nextS * 1000 - performance.now()), stop.signal);
      if (stop.signal.aborted) return;
      const atS = at();
      line(atS, 'schedule: invoking consumerScaler');
      invokeScaler(scheduledEvent(new Date(wall0 + atS * 1000)));
      nextS = nextScheduleS(firstS, settings.scheduleIntervalS, atS);
    }
  };

  // Every 250 ms: the Deployment's replicas, then the Ready pods' share of messages.
  const consumerLoop = async () => {
    for (let errors = 0; !stop.signal.aborted; await pause(250, stop.signal)) {
      try {
        replicas = replicasOf(await readDeployment(cluster, ref));
        await consumer.tick(replicas.ready);
        errors = 0;
      } catch (error) {
        // A transient error costs a tick; a lasting one ends the step with it.
        if (++errors >= 20) return fail(error);
      }
    }
    await consumer.finish().catch(() => undefined);
  };

  // Two senders, as a catalogue import's workers would send (each call still reaches moto alone).
  const sender = async () => {
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      for (let first = next; first < messages && !stop.signal.aborted; first = next) {
        next += 10;
        const ids = Array.from({ length: Math.min(10, messages - first) }, (_, i) => first + i + 1);
        // The run id lets consumers' own records be matched to this burst (ConsumerPods).
        await queue.send(
          ids.map((id) => JSON.stringify({ product_ids: [id], attributes: { status: 1 }, run })),
        );
      }
    };
    await Promise.all([worker(), worker()]);
    sendSeconds = Math.round((performance.now() - started) / 100) / 10;
    line(at(), `sent ${count(messages)} messages in ${seconds(sendSeconds)} s`);
  };

  // Once a second from the burst on: a sample; stops at zero or at the timeout.
  const samples: BurstSample[] = [];
  const sampler = async () => {
    for (let tick = 1, errors = 0; !stop.signal.aborted; tick++) {
      try {
        const depth = await queue.depth();
        const sample: BurstSample = {
          atS: at(),
          ...depth,
          specReplicas: replicas.spec,
          readyReplicas: replicas.ready,
          consumed: consumer.consumed,
        };
        const previous = samples.at(-1);
        samples.push(sample);
        if (previous !== undefined && previous.specReplicas !== sample.specReplicas) {
          line(
            sample.atS,
            `${deployment}: desired replicas ${previous.specReplicas} → ${sample.specReplicas}`,
          );
        }
        progress(formatSample(sample));

        const drained = sendSeconds !== undefined && depth.visible === 0 && depth.inFlight === 0;
        if (drained && replicas.spec === 0 && replicas.ready === 0) return stop.abort();
        if (sample.atS >= settings.timeoutS) {
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
    const scheduling = schedule();
    // The schedule's lead: its first invocation runs (and settles into its idle watch) before the burst.
    await pause(Math.max(0, t0 - performance.now()), stop.signal);
    await Promise.all([sender().catch(fail), consumerLoop(), sampler(), scheduling]);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined || options.signal?.aborted) {
    // Leave the queue empty, so an invocation still running scales the Deployment back down.
    closed = true;
    unlisten();
    await queue.purge().catch(() => undefined);
    if (failure !== undefined) throw failure;
    options.signal?.throwIfAborted();
  }

  // On success an invocation still running is awaited, so its changes (the scale to zero) are
  // recorded: its idle watch keeps it until 58 s into its minute, bounded by the function's timeout.
  // After a timeout it is not.
  if (pending.size > 0 && !timedOut) {
    line(at(), `waiting for ${pending.size} consumerScaler invocation(s) to finish`);
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, scalerTimeoutMs).unref());
    await Promise.race([Promise.all(pending), deadline]);
  }
  if (pending.size > 0)
    note(`${pending.size} consumerScaler invocation(s) still running at the end (not recorded)`);
  // Its log lines come through stdout, its result over IPC: the last lines may trail the result.
  await new Promise((resolve) => setTimeout(resolve, 200));
  closed = true;
  unlisten();
  const scalerCalls = finished.map(withLogs).sort((a, b) => a.atS - b.atS);
  const left = await queue.depth();
  if (left.visible + left.inFlight > 0) {
    await queue.purge();
    note(`purged ${queueNameOf(queueUrl)}: ${count(left.visible + left.inFlight)} messages left at the end`);
  }

  const totalS = at();
  const timeline = summarizeBurst(samples, sendSeconds ?? totalS);
  const deliveries = consumer.deliveries?.(messages);
  if (deliveries !== undefined)
    note(
      `the consumers recorded ${count(deliveries.processed)} of ${count(messages)} messages processed (by ${deliveries.pods} pods), ${count(deliveries.redelivered)} redelivered, ${count(deliveries.missing)} missing`,
    );
  if (timedOut) {
    note(
      `timed out after ${settings.timeoutS} s: ${
        timeline.drainedAtS === undefined
          ? 'the queue was not drained'
          : `drained at ${timeline.drainedAtS} s`
      }, replicas ${replicas.ready}/${replicas.spec} — not back at zero`,
    );
  }
  progress(formatTimeline({ ...timeline, totalS }));
  const wake = wakeOf(scalerCalls);
  progress(`consumerScaler woken: ${formatWake(wake, queueUrl)}`);
  return {
    namespace,
    deployment,
    queueUrl,
    messages,
    sendSeconds: sendSeconds ?? totalS,
    samples,
    scalerCalls,
    ...(wake === undefined ? {} : { wake }),
    ...timeline,
    totalS,
    cooldownSeconds: settings.cooldownSeconds,
    scheduleIntervalS: settings.scheduleIntervalS,
    scheduleLeadS: settings.scheduleLeadS,
    ratePerReadyPod: settings.ratePerReadyPod,
    timedOut,
    drainedBy: consumer.description,
    ...(deliveries === undefined ? {} : { deliveries }),
    notes,
  };
}
