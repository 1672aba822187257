import { logNormal, type Random } from './random.ts';
import type { Trace } from './traces.ts';

/** Consumer and platform timings shared by every scaler (the manifests' consumer-run.sh loop). */
export const platform = {
  /** Seconds per simulation step. */
  dt: 0.5,
  /** `php bin/magento queue:consumers:start` bootstrap before a batch's first message. */
  bootstrapSeconds: 3,
  /** consumer-run.sh sleeps this long after every batch (CONSUMER_IDLE_SECONDS). */
  pauseSeconds: 5,
  /** Pod start: scheduling, image present, container start; 6 s + log-normal (median 12 s). */
  podStart: (random: Random): number => 6 + logNormal(random, 12, 0.5),
  /** SQS approximate counts describe the queue as it was up to this long ago. */
  maxCountLagSeconds: 20,
  /** CloudWatch SQS metrics: 1-minute datapoints, readable this long after the minute ends. */
  metricDelaySeconds: 120,
  /**
   * EventBridge schedule (or alarm rule) → handler running: the rule's delivery plus Lambda's async
   * invoke of a warm container, 0.2–1 s (assumed); one invocation in 20 also pays a cold start of
   * 1.5 s (assumed: init with the Kubernetes client and the EKS token at 256 MB).
   */
  invokeLatency: (random: Random): number => 0.2 + random() * 0.8 + (random() < 0.05 ? 1.5 : 0),
  /**
   * One reconcile pass until spec.replicas is written: discovery LIST, GetQueueAttributes, the
   * Deployment's GET and the PUT of its Scale, each a round trip within the region: 0.3–1.2 s.
   */
  passLatency: (random: Random): number => 0.3 + random() * 0.9,
} as const;

interface Message {
  readonly arrival: number;
  readonly service: number;
}

type Phase = 'pause' | 'bootstrap' | 'working';

interface Pod {
  readonly readyAt: number;
  terminating: boolean;
  phase: Phase;
  phaseUntil: number;
  batchLeft: number;
  current: Message | undefined;
  doneAt: number;
}

/** What a scaler may observe and do. */
export interface ScalerView {
  /** spec.replicas. */
  readonly replicas: number;
  setReplicas(replicas: number): void;
  /** SQS GetQueueAttributes as the API answers: counts from up to `maxCountLagSeconds` ago. */
  readCounts(): { visible: number; inFlight: number };
  /** NumberOfMessagesSent per second of the latest minute CloudWatch has published; undefined before the first. */
  arrivalsPerSecond(): number | undefined;
  /** ApproximateNumberOfMessagesVisible of the latest published minute (for the alarm); undefined before the first. */
  publishedVisible(): number | undefined;
}

export interface Scaler {
  readonly name: string;
  /** Called every step; acts when its own clock says so. */
  step(t: number, view: ScalerView): void;
  /** Pods that exist before t = 0 (a static deployment). */
  readonly initialReplicas: number;
}

/** Per-run results. */
export interface RunMetrics {
  readonly timeToTarget: number | undefined;
  readonly drainSeconds: number | undefined;
  readonly p95WaitSeconds: number;
  readonly podMinutes: number;
  readonly replicaChanges: number;
  readonly maxChangesPer5Min: number;
  readonly zeroWhileInFlight: number;
  readonly coldStarts: number;
  readonly unprocessed: number;
  /** Lowest replicas requested while the trace's steady load ran (T4's Little's-law floor check). */
  readonly minReplicasUnderLoad: number;
  readonly series: readonly { t: number; visible: number; replicas: number }[];
}

/**
 * Fixed-step discrete simulation (0.5 s) of one consumer Deployment and its queue: messages
 * arrive per the trace; pods start after a sampled latency, run batches of `maxMessages` (3 s
 * bootstrap, 5 s pause after each batch, an empty queue ends a batch), and a pod asked to stop
 * finishes its running batch first (the SIGTERM wrapper). The scaler sees lagged counts and
 * delayed CloudWatch minutes only.
 */
export function simulate(trace: Trace, scaler: Scaler, random: Random): RunMetrics {
  const { dt } = platform;
  const steps = Math.ceil(trace.durationSeconds / dt);
  const queue: Message[] = [];
  let head = 0;
  let next = 0;
  const sentPerMinute = new Map<number, number>();
  const visibleAtMinuteEnd = new Map<number, number>();
  const history: { visible: number; inFlight: number }[] = [];
  const pods: Pod[] = [];
  const waits: number[] = [];
  let replicas = scaler.initialReplicas;
  for (let i = 0; i < replicas; i++) pods.push(newPod(-1));
  let podSeconds = 0;
  let changes: number[] = [];
  let zeroWhileInFlight = 0;
  let coldStarts = 0;
  let lastCompletion: number | undefined;
  let completed = 0;
  let timeToTarget: number | undefined;
  let minUnderLoad = Number.POSITIVE_INFINITY;
  const firstArrival = trace.arrivals[0] ?? 0;
  const lastArrival = trace.arrivals.at(-1) ?? 0;
  const series: { t: number; visible: number; replicas: number }[] = [];

  function newPod(readyAt: number): Pod {
    return {
      readyAt,
      terminating: false,
      phase: 'bootstrap',
      phaseUntil: readyAt + platform.bootstrapSeconds,
      batchLeft: trace.maxMessages,
      current: undefined,
      doneAt: 0,
    };
  }
  const service = (): number =>
    trace.fixedServiceTime ? trace.secondsPerMessage : logNormal(random, trace.secondsPerMessage, 0.3);
  const inFlightNow = (): number => pods.filter((p) => p.current !== undefined).length;

  /** Advances one ready pod by a step; true when it exits (stopping, between batches). */
  function stepPod(pod: Pod): boolean {
    if (pod.phase === 'pause') {
      if (pod.terminating) return true;
      if (t >= pod.phaseUntil) {
        pod.phase = 'bootstrap';
        pod.phaseUntil = t + platform.bootstrapSeconds;
        pod.batchLeft = trace.maxMessages;
      }
      return false;
    }
    if (pod.phase === 'bootstrap') {
      if (t < pod.phaseUntil) return false;
      pod.phase = 'working';
    }
    if (pod.current !== undefined) {
      if (t < pod.doneAt) return false;
      completed++;
      lastCompletion = t;
      pod.current = undefined;
      pod.batchLeft--;
    }
    const message = pod.batchLeft > 0 && head < queue.length ? queue[head] : undefined;
    if (message === undefined) {
      // Batch over (max messages, or the queue was empty): the wrapper pauses, or exits when stopping.
      pod.phase = 'pause';
      pod.phaseUntil = t + platform.pauseSeconds;
      return pod.terminating;
    }
    head++;
    waits.push(t - message.arrival);
    pod.current = message;
    pod.doneAt = t + message.service;
    return false;
  }

  let t = 0;
  let lagAt: { t: number; steps: number } | undefined;
  const view: ScalerView = {
    get replicas() {
      return replicas;
    },
    setReplicas(n) {
      if (n === replicas) return;
      if (n === 0 && inFlightNow() > 0) zeroWhileInFlight++;
      if (replicas === 0 && n > 0) coldStarts++;
      changes.push(t);
      replicas = n;
    },
    readCounts() {
      // Reads within one step (the idle watch's read and the pass it wakes, milliseconds apart)
      // see the same lag; reads in different steps draw their own.
      if (lagAt?.t !== t) lagAt = { t, steps: Math.floor((random() * platform.maxCountLagSeconds) / dt) };
      const lagSteps = lagAt.steps;
      return history[Math.max(0, history.length - 1 - lagSteps)] ?? { visible: 0, inFlight: 0 };
    },
    arrivalsPerSecond() {
      const minute = Math.floor((t - platform.metricDelaySeconds) / 60) - 1;
      return minute < 0 ? undefined : (sentPerMinute.get(minute) ?? 0) / 60;
    },
    publishedVisible() {
      const minute = Math.floor((t - platform.metricDelaySeconds) / 60) - 1;
      return minute < 0 ? undefined : (visibleAtMinuteEnd.get(minute) ?? 0);
    },
  };

  for (let s = 0; s < steps; s++) {
    t = s * dt;
    // Arrivals.
    while (next < trace.arrivals.length && (trace.arrivals[next] ?? 0) <= t) {
      const arrival = trace.arrivals[next] ?? t;
      queue.push({ arrival, service: service() });
      const minute = Math.floor(arrival / 60);
      sentPerMinute.set(minute, (sentPerMinute.get(minute) ?? 0) + 1);
      next++;
    }
    // Pods.
    for (let i = pods.length - 1; i >= 0; i--) {
      const pod = pods[i];
      if (pod === undefined || pod.readyAt > t) continue;
      if (stepPod(pod)) pods.splice(i, 1);
    }
    const visible = queue.length - head;
    const inFlight = inFlightNow();
    history.push({ visible, inFlight });
    if (Math.abs(t % 60) < dt / 2 && t > 0) visibleAtMinuteEnd.set(Math.floor(t / 60) - 1, visible);

    // The scaler.
    scaler.step(t, view);
    if (timeToTarget === undefined && t >= firstArrival && replicas >= trace.targetReplicas) {
      timeToTarget = t - firstArrival;
    }
    if (t >= firstArrival + 300 && t <= lastArrival && trace.arrivals.length > 1000) {
      minUnderLoad = Math.min(minUnderLoad, replicas);
    }

    // The ReplicaSet controller.
    const live = pods.filter((p) => !p.terminating);
    if (live.length < replicas) {
      for (let i = live.length; i < replicas; i++) pods.push(newPod(t + platform.podStart(random)));
    } else if (live.length > replicas) {
      // Victims as the ReplicaSet controller ranks them: not yet ready first, then the most recently ready.
      const victims = [...live].sort((a, b) => b.readyAt - a.readyAt).slice(0, live.length - replicas);
      for (const v of victims) {
        if (v.readyAt > t) pods.splice(pods.indexOf(v), 1);
        else v.terminating = true;
      }
    }
    podSeconds += pods.length * dt;
    if (s % Math.round(5 / dt) === 0) series.push({ t, visible, replicas });
  }

  changes = changes.filter((c) => c >= 0);
  let maxPer5 = 0;
  for (const c of changes) maxPer5 = Math.max(maxPer5, changes.filter((d) => d >= c && d < c + 300).length);
  const sortedWaits = [...waits].sort((a, b) => a - b);
  const unprocessed = trace.arrivals.length - completed;
  return {
    timeToTarget,
    drainSeconds:
      unprocessed === 0 && lastCompletion !== undefined ? lastCompletion - lastArrival : undefined,
    p95WaitSeconds: sortedWaits[Math.floor(0.95 * (sortedWaits.length - 1))] ?? 0,
    podMinutes: podSeconds / 60,
    replicaChanges: changes.length,
    maxChangesPer5Min: maxPer5,
    zeroWhileInFlight,
    coldStarts,
    unprocessed,
    minReplicasUnderLoad: Number.isFinite(minUnderLoad) ? minUnderLoad : Number.NaN,
    series,
  };
}
