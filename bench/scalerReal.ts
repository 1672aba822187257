import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { connectCluster } from '../lib/k8s/connection.ts';
import { targetLabel } from '../lib/scaling/annotations.ts';
import { awsEnv } from '../scripts/local/aws.ts';
import { adminKubeconfig } from '../scripts/local/k8s.ts';
import { kedaRunning } from '../scripts/local/keda.ts';
import { sqsScaledObject } from '../scripts/local/kedaScaledObject.ts';
import { sendMessages } from '../test/helpers/sqs.ts';
import { writePlot } from './lib/plot.ts';
import { type LaneFigures, LaneObserver } from './lib/scalerReal/laneRun.ts';
import { burst, laneDeployment, lanes, runLabel } from './lib/scalerReal/lanes.ts';
import { PodConsumers } from './lib/scalerReal/podConsumers.ts';
import { scheduleConsumerScaler } from './lib/scalerReal/scheduledScaler.ts';
import { fmt } from './lib/stats.ts';
import { seededRandom } from './scalerSim/random.ts';
import { platform } from './scalerSim/world.ts';

/**
 * `npm run bench:scaler:real`: the burst trace (10,000 messages) on real moto queues, scaled by real
 * KEDA (operator + metrics server + the HPA controller; defaults and tuned) and by consumerScaler's
 * own reconcile loop on its 1-minute schedule, side by side, once. The pods are KWOK's; their
 * consumption is this process's (bench/lib/scalerReal/podConsumers.ts). Needs
 * `M2_KEDA=1 M2_REAL_NODES=1 npm run local:up`. Writes bench/out/scaler-real.md and scaler-real.svg.
 */
const maxMinutes = Number(process.env.M2_BENCH_SCALER_MINUTES ?? 30);
const outDir = join(import.meta.dirname, 'out');

if (!kedaRunning()) {
  console.error('KEDA is not running: start it with M2_KEDA=1 M2_REAL_NODES=1 npm run local:up');
  process.exit(1);
}
Object.assign(process.env, awsEnv, { KUBECONFIG: adminKubeconfig });

const kubectlBin = join(
  execFileSync(
    'bash',
    [join(import.meta.dirname, '..', 'scripts', 'local', 'build-k8s.sh'), '--print-bin-dir'],
    {
      encoding: 'utf8',
    },
  ).trim(),
  'kubectl',
);
const kubectl = (args: readonly string[], input?: string): string =>
  execFileSync(kubectlBin, ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'inherit'],
  });

// M2_BENCH_KUBECONFIG: another admin kubeconfig (e.g. the apiserver's own port) for the bench's reads and our scaler.
const kubeconfig = process.env.M2_BENCH_KUBECONFIG ?? adminKubeconfig;
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const k8s = { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api) };
// One client per lane, each with room for all its pods' calls: with the SDK's default 50 sockets the
// consumers' deletes queued in the client, not in moto.
const sqsClient = (): SQSClient =>
  new SQSClient({
    useQueueUrlAsEndpoint: false,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
  });
const sqs = sqsClient();
const runId = randomBytes(3).toString('hex');
const namespace = `bench-scaler-${runId}`;
const random = seededRandom(1);
const queueUrl = (id: string): string =>
  `https://sqs.${awsEnv.AWS_REGION}.amazonaws.com/123456789012/bench-scaler-${runId}-${id}`;

async function setUp(): Promise<void> {
  await k8s.core.createNamespace({ body: { metadata: { name: namespace } } });
  for (const lane of lanes) {
    await sqs.send(new CreateQueueCommand({ QueueName: `bench-scaler-${runId}-${lane.id}` }));
    await k8s.apps.createNamespacedDeployment({
      namespace,
      body: laneDeployment(lane, runId, queueUrl(lane.id)),
    });
    if (lane.keda === undefined) continue;
    const objects = sqsScaledObject({
      name: lane.id,
      namespace,
      deployment: lane.id,
      queueUrl: queueUrl(lane.id),
      queueLength: burst.messagesPerPod,
      minReplicas: 0,
      maxReplicas: burst.maxReplicas,
      tuning: lane.keda,
    });
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  }
  // KEDA has read each (empty) queue once: its first poll is not part of the measurement.
  const deadline = Date.now() + 120_000;
  for (const lane of lanes.filter((l) => l.keda !== undefined)) {
    for (;;) {
      const so = JSON.parse(kubectl(['-n', namespace, 'get', 'scaledobject', lane.id, '-o', 'json'])) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (so.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`ScaledObject ${lane.id} not Ready within 120 s`);
      await sleep(1000);
    }
  }
}

async function tearDown(): Promise<void> {
  try {
    kubectl(['-n', namespace, 'delete', 'scaledobject', '--all', '--wait=true', '--timeout=60s']);
  } finally {
    await k8s.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    for (const lane of lanes) {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl(lane.id) })).catch(() => undefined);
    }
  }
}

async function run(): Promise<{ observers: LaneObserver[]; end: number }> {
  const laneSqs = lanes.map(() => sqsClient());
  const observers = lanes.map(
    (lane, i) =>
      new LaneObserver(
        k8s,
        laneSqs[i] ?? sqs,
        {
          namespace,
          name: lane.id,
          queueUrl: queueUrl(lane.id),
          target: burst.targetReplicas,
          messages: burst.messages,
        },
        new PodConsumers({
          sqs: laneSqs[i] ?? sqs,
          queueUrl: queueUrl(lane.id),
          random: seededRandom(lane.id.length * 7919),
          model: {
            secondsPerMessage: burst.secondsPerMessage,
            maxMessages: burst.maxMessages,
            bootstrapSeconds: platform.bootstrapSeconds,
            pauseSeconds: platform.pauseSeconds,
            startSeconds: platform.podStart,
          },
        }),
      ),
  );
  const cluster = await connectCluster({ kind: 'kubeconfig', path: kubeconfig });
  // The schedule runs before the burst, as it does all day: the burst lands a random 0–60 s into
  // one of its minutes, while that minute's invocation is already running.
  const stopSchedule = scheduleConsumerScaler({
    selector: `${targetLabel}=true,${runLabel}=${runId}`,
    cluster,
    sqs,
    cloudWatch: new CloudWatchClient({}),
  });
  await sleep(random() * 60_000);
  const burstAt = Date.now();
  for (const o of observers) o.burstAt = burstAt;
  const sends = lanes.map((lane, i) =>
    sendMessages(laneSqs[i] ?? sqs, queueUrl(lane.id), burst.messages).then(() => {
      const o = observers[i];
      if (o !== undefined) o.sentAt = Date.now();
    }),
  );
  let deadline = burstAt + maxMinutes * 60_000;
  // Ctrl-C ends the run early; the namespace, ScaledObjects and queues are still removed.
  const interrupt = (): void => {
    deadline = 0;
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  const done = new Set<number>();
  let nextProgress = burstAt;
  // Each lane polls on its own, once a second, so a slow answer for one never delays another.
  const polls = observers.map(async (o, i) => {
    while (!done.has(i) && Date.now() < deadline) {
      const tick = Date.now();
      try {
        if (await o.observe()) done.add(i);
      } catch (error) {
        // An apiserver that is briefly unavailable (another test restarting it) costs a sample, not the run.
        console.error(`${lanes[i]?.id}: observation failed`, error instanceof Error ? error.message : error);
      }
      await sleep(Math.max(0, 1000 - (Date.now() - tick)));
    }
  });
  while (done.size < observers.length && Date.now() < deadline) {
    const tick = Date.now();
    if (tick >= nextProgress) {
      nextProgress += 30_000;
      console.error(
        `t=${Math.round((tick - burstAt) / 1000)} s ${observers
          .map(
            (o, i) => `${lanes[i]?.id}: ${o.samples.at(-1)?.replicas} replicas, ${o.consumers.deleted} done`,
          )
          .join('; ')}`,
      );
    }
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  await Promise.all([...polls, ...sends]);
  const end = Date.now();
  await stopSchedule();
  await Promise.all(observers.map((o) => o.consumers.stopAll(end)));
  return { observers, end };
}

const s = (value: number | undefined, unit = ' s'): string =>
  value === undefined ? '—' : `${fmt(value)}${unit}`;

function table(figures: readonly LaneFigures[]): string {
  const lines = [
    '| scaler | time to first pod | time to target (100) | drain | back to 0 after drain | pod-minutes | replica changes | peak | zero while in flight | messages done |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  figures.forEach((f, i) => {
    lines.push(
      `| ${lanes[i]?.title} | ${s(f.timeToFirstPodS)} | ${s(f.timeToTargetS)} | ${s(f.drainS)} | ${s(f.backToZeroS)} | ${fmt(f.podMinutes)} | ${f.replicaChanges} | ${f.peakReplicas} | ${f.zeroWhileInFlight} | ${f.deleted} |`,
    );
  });
  return lines.join('\n');
}

await setUp();
let result: Awaited<ReturnType<typeof run>>;
try {
  result = await run();
} finally {
  await tearDown();
}
const figures = result.observers.map((o) => o.figures(result.end));
const receive = result.observers.flatMap((o) => o.consumers.receiveMs).sort((a, b) => a - b);
const notes = [
  `One run, the three lanes at once on one embedded cluster (moto, kube-apiserver, kube-controller-manager's HPA controller every 15 s, KEDA 2.21.0): ${burst.messages} messages sent to each lane's own queue at t = 0, ${burst.messagesPerPod} messages per pod, max ${burst.maxReplicas}, cooldown ${burst.cooldownSeconds} s. KEDA tuned: pollingInterval 5 s, scale-up +100 pods or +10,000 % per 15 s with no stabilisation, scale-down window 180 s. consumerScaler: its reconcile loop with the function's defaults on a 1-minute schedule (the burst a random 0–60 s into one of its minutes), no alarm wake-up.`,
  `Pods are KWOK's; this process runs each pod's consumer against the real queue: ${platform.bootstrapSeconds} s bootstrap, batches of ${burst.maxMessages} received at once, a log-normal ${burst.secondsPerMessage} s each, the batch deleted at its end, ${platform.pauseSeconds} s pause (100 pods: ≈ 36 messages/s, so ≥ 280 s for 10,000 at full size); a pod's container starts 6 s + log-normal (median 12 s) after the pod is created, as in the simulator. Pod-minutes: from each pod's creation until its consumer exited. moto receive p50 ${receive.length > 0 ? fmt(receive[Math.floor(receive.length / 2)] ?? 0) : '—'} ms.`,
];
const markdown = `${table(figures)}\n\n${notes.join('\n\n')}\n`;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'scaler-real.md'), markdown);
console.log(markdown);

const rows = result.observers.flatMap((o, i) =>
  o.samples
    .filter((_, k) => k % 5 === 0)
    .flatMap((p) => [
      { t: p.t / 60, scaler: lanes[i]?.title, series: 'replicas requested', value: p.replicas },
      { t: p.t / 60, scaler: lanes[i]?.title, series: 'backlog (visible + in flight)', value: p.backlog },
    ]),
);
await writePlot(join(outDir, 'scaler-real.svg'), {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: `burst of ${burst.messages}: real KEDA vs consumerScaler (one run)`,
  data: { values: rows },
  facet: { row: { field: 'series', type: 'nominal', title: null } },
  spec: {
    width: 640,
    height: 160,
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.2 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'minutes since the burst' },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'scaler', type: 'nominal' },
    },
  },
  resolve: { scale: { y: 'independent' } },
});
console.log('plot: bench/out/scaler-real.svg');
