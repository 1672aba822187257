/**
 * npm run bench:traffic — zero downtime counted in requests. The example shop's web tier (the
 * overlay's m2-http Deployment, Service, PDB and configuration, on the real kubelet nodes, release
 * images localhost/m2/magento:<tag>, MariaDB) gets a fixed rate of storefront requests (home,
 * category, product, GraphQL GET) through its Service's ClusterIP (kube-proxy) while, per scenario:
 *   good release 2.4.7-p3 → 2.4.8, crash-looping release, never-ready release (each stuck one rolled
 *   back under load), storefront-500 release (recorded as it is today: nothing stops it), a web pod
 *   deleted, a real node drained with the PDB (kubectl drain, then uncordon), and for the shop's
 *   product-updates consumer (3 pods, its own queue in moto): scaled down 3 → 1 while every pod is in
 *   the middle of a batch, and a pod killed past its grace period with a message in hand; then the
 *   storefront-500, good and crash-looping releases again through the rollout function as role
 *   m2:rollout (its preview pod first, smoke checks, rollback), side by side with the plain updates.
 * Every request's start, status or error and latency is recorded (bench/lib/traffic/loadGenerator.ts);
 * every message sent is accounted for from the queue, the consumers' database record and their logs
 * (bench/lib/traffic/messageLedger.ts). Per run: failed requests, p50/p99 latency, messages processed,
 * lost and duplicated, time from the change to the verdict (rollout complete, stuck detected, pod
 * replaced, node drained, every message accounted for). `--runs N` (default 3) runs each scenario N
 * times; the table shows medians; `--only N` runs the N-th scenario alone. Needs M2_REAL_NODES=1
 * (`M2_REAL_NODES=1 npm run local:up`); starts what is not running. Prints a markdown table; writes
 * bench/results/traffic.{md,json,svg}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { messageOf } from '../lib/common/messageOf.ts';
import { defaultCallSettings } from '../lib/k8s/call.ts';
import { ClientNodeCluster } from '../lib/k8s/clientNodeCluster.ts';
import { adminKubeconfig } from '../scripts/local/k8s.ts';
import { ensureShopSchema } from '../scripts/local/mariadb.ts';
import { realNodesEnabled } from '../scripts/local/nodes.ts';
import { up } from '../scripts/local/up.ts';
import { benchArgsOrExit } from './lib/args.ts';
import { writePlot } from './lib/plot.ts';
import { fmt, median, spread } from './lib/stats.ts';
import { trafficBench } from './lib/traffic/command.ts';
import { consumerReplicas } from './lib/traffic/consumerScenarios.ts';
import { type LoadRun, startLoad } from './lib/traffic/loadGenerator.ts';
import type { MessageAccount } from './lib/traffic/messageLedger.ts';
import type { RequestRecord } from './lib/traffic/requestRecorder.ts';
import {
  baselineRelease,
  type Scenario,
  type ScenarioVerdict,
  scenarios,
  waitAtRest,
  webReplicas,
} from './lib/traffic/scenarios.ts';
import { ShopConsumers, visibilityTimeoutSeconds } from './lib/traffic/shopConsumers.ts';
import { deployWebTier, type ShopCluster } from './lib/traffic/shopWeb.ts';
import { storefrontPaths } from './lib/traffic/storefrontPaths.ts';
import {
  isFailed,
  type LoadSummary,
  summarize,
  type TimelineSecond,
  timeline,
} from './lib/traffic/timeline.ts';

// Before anything starts: `--help` and a bad command line end here.
const { runs, rate, only } = benchArgsOrExit(trafficBench);
const chosen = only === 0 ? scenarios : scenarios.slice(only - 1, only);
/** The consumer scenarios first: the newest ones, so a problem in them shows early in a long run. */
const executionOrder = [
  ...chosen.filter((s) => s.tier === 'consumers'),
  ...chosen.filter((s) => s.tier === 'web'),
];
const resultsDir = join(import.meta.dirname, 'results');
/** Steady load before the change, so every timeline starts with a baseline. */
const baselineMs = 5_000;

interface RunResult extends ScenarioVerdict {
  readonly scenario: string;
  readonly run: number;
  readonly endedBy: LoadRun['endedBy'];
  readonly summary: LoadSummary;
  readonly timeline: readonly TimelineSecond[];
  readonly marks: readonly { readonly atMs: number; readonly what: string }[];
  /** Every failed request of the run (the served ones are in the timeline and the summary). */
  readonly failedRequests: readonly RequestRecord[];
}

class AdminCluster extends ClientNodeCluster implements ShopCluster {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  constructor(kubeConfig: KubeConfig) {
    super(kubeConfig, defaultCallSettings);
    this.kubeConfig = kubeConfig;
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }
}

async function runOnce(
  cluster: ShopCluster,
  namespace: string,
  consumers: ShopConsumers,
  target: string,
  scenario: Scenario,
  run: number,
): Promise<RunResult> {
  await waitAtRest({ cluster, namespace });
  const load = startLoad({
    target,
    paths: storefrontPaths,
    rate,
    budget: rate * scenario.maxLoadSeconds,
    timeLimitMs: scenario.maxLoadSeconds * 1000,
  });
  const marks: { atMs: number; what: string }[] = [];
  const stage = {
    cluster,
    namespace,
    consumers,
    elapsedMs: load.elapsedMs,
    mark: (what: string) => marks.push({ atMs: Math.round(load.elapsedMs()), what }),
  };
  let verdict: ScenarioVerdict;
  try {
    await sleep(baselineMs);
    verdict = await scenario.run(stage);
  } catch (error) {
    // One broken run is a result to report, not the end of a bench that has run for half an hour;
    // a restore that fails after it does end the bench.
    console.error(`${scenario.name} #${run} failed:`, error);
    verdict = { verdict: `error: ${messageOf(error)}`, verdictMs: load.elapsedMs() - baselineMs };
  } finally {
    load.stop();
  }
  const loadRun = await load.done;
  await scenario.restore(stage);
  const summary = summarize(loadRun.records);
  const messages = verdict.messages === undefined ? '' : ` messages ${JSON.stringify(verdict.messages)},`;
  console.error(
    `${scenario.name} #${run}: ${summary.requests} requests, ${summary.failed} failed ${JSON.stringify(summary.failures)},${messages} ${verdict.verdict} after ${fmt(verdict.verdictMs / 1000, 1)} s${verdict.sinceReadyMs === undefined ? '' : `, ${fmt(verdict.sinceReadyMs / 1000, 1)} s after the first Ready new pod`}${verdict.previewMs === undefined ? '' : `, preview phase ${fmt(verdict.previewMs / 1000, 1)} s`}`,
  );
  return {
    scenario: scenario.name,
    run,
    ...verdict,
    endedBy: loadRun.endedBy,
    summary,
    timeline: timeline(loadRun.records),
    marks,
    failedRequests: loadRun.records.filter(isFailed),
  };
}

const ms = (value: number | undefined): string => (value === undefined ? '–' : fmt(value, 0));

/** `median (run 1, run 2, …)` of one count, or – for scenarios that send no messages. */
function messageCell(runs: readonly RunResult[], count: keyof MessageAccount): string {
  const values = runs.flatMap((r) => (r.messages === undefined ? [] : [r.messages[count]]));
  return values.length === 0 ? '–' : `${fmt(median(values))} (${values.join(', ')})`;
}

/** The rollout-function scenarios' times from its log: verdict after the first Ready new pod, the preview's cost. */
function rolloutTimes(runs: readonly RunResult[]): string {
  const cell = (what: string, values: readonly number[]) =>
    values.length === 0
      ? ''
      : `; ${what} ${fmt(median(values), 1)} s (${values.map((v) => fmt(v, 1)).join(', ')})`;
  return (
    cell(
      'after first Ready new pod',
      runs.flatMap((r) => (r.sinceReadyMs === undefined ? [] : [r.sinceReadyMs / 1000])),
    ) +
    cell(
      'preview phase',
      runs.flatMap((r) => (r.previewMs === undefined ? [] : [r.previewMs / 1000])),
    )
  );
}

function tableOf(results: readonly RunResult[]): string {
  const header = [
    '| scenario | claim | runs | failed requests (median; per run) | requests/run | p50 ms | p99 ms | messages sent | processed | lost | duplicated | time to verdict s (median, spread) | verdict |',
    '| --- | --- | --: | --- | --: | --: | --: | --: | --- | --- | --- | --- | --- |',
  ];
  const rows = chosen.map((s) => {
    const mine = results.filter((r) => r.scenario === s.name);
    if (mine.length === 0) return `| ${s.name} | ${s.claim} | 0 | – | – | – | – | – | – | – | – | – | – |`;
    const sent = mine.flatMap((r) => (r.messages === undefined ? [] : [r.messages.sent]));
    const failed = mine.map((r) => r.summary.failed);
    const p50 = mine.flatMap((r) => (r.summary.p50Ms === undefined ? [] : [r.summary.p50Ms]));
    const p99 = mine.flatMap((r) => (r.summary.p99Ms === undefined ? [] : [r.summary.p99Ms]));
    const verdictS = mine.map((r) => r.verdictMs / 1000);
    const verdicts = [...new Set(mine.map((r) => r.verdict))].join('; ') + rolloutTimes(mine);
    return `| ${s.name} | ${s.claim} | ${mine.length} | ${fmt(median(failed))} (${failed.join(', ')}) | ${fmt(median(mine.map((r) => r.summary.requests)))} | ${ms(p50.length ? median(p50) : undefined)} | ${ms(p99.length ? median(p99) : undefined)} | ${sent.length === 0 ? '–' : fmt(median(sent))} | ${messageCell(mine, 'processed')} | ${messageCell(mine, 'lost')} | ${messageCell(mine, 'duplicated')} | ${fmt(median(verdictS), 1)} (${fmt(spread(verdictS) * 100)} %) | ${verdicts} |`;
  });
  return [...header, ...rows].join('\n');
}

async function plot(results: readonly RunResult[]): Promise<void> {
  const first = results.filter((r) => r.run === 1);
  await writePlot(join(resultsDir, 'traffic.svg'), {
    title: `storefront requests/s and failed requests/s through the Service (run 1, ${rate} req/s)`,
    data: {
      values: first.flatMap((r) =>
        r.timeline.flatMap((t) => [
          { scenario: r.scenario, second: t.second, series: 'sent', count: t.sent },
          { scenario: r.scenario, second: t.second, series: 'failed', count: t.failed },
        ]),
      ),
    },
    facet: { row: { field: 'scenario', type: 'nominal', title: null } },
    spec: {
      width: 600,
      height: 90,
      mark: 'line',
      encoding: {
        x: { field: 'second', type: 'quantitative', title: 's since the load started' },
        y: { field: 'count', type: 'quantitative', title: 'requests/s' },
        color: {
          field: 'series',
          type: 'nominal',
          scale: { domain: ['sent', 'failed'], range: ['#4c78a8', '#e45756'] },
        },
      },
    },
  });
}

async function main(): Promise<void> {
  if (!realNodesEnabled()) {
    console.error(
      'bench:traffic needs real nodes: run it with M2_REAL_NODES=1 (after M2_REAL_NODES=1 npm run local:up)',
    );
    process.exit(2);
  }
  const t0 = Date.now();
  Object.assign(process.env, await up());
  const upMs = Date.now() - t0;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(adminKubeconfig);
  const cluster = new AdminCluster(kubeConfig);
  const namespace = `bench-traffic-${Date.now().toString(36)}`;
  await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
  const started = Date.now();
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  let consumers: ShopConsumers | undefined;
  try {
    const db = ensureShopSchema(namespace, { fresh: true });
    // 2.4.8's schema change is additive (blue-green): 2.4.7-p3 serves on it, and the good release needs it.
    const target = await deployWebTier(cluster, namespace, {
      tag: baselineRelease,
      replicas: webReplicas,
      db,
      upgrades: [baselineRelease, '2.4.8'],
    });
    consumers = await ShopConsumers.deploy(cluster, namespace, {
      sqs,
      db,
      tag: baselineRelease,
      replicas: consumerReplicas,
    });
    console.error(
      `${namespace}: ${webReplicas} web pods of ${baselineRelease} behind ${target}; ${rate} req/s; ${consumerReplicas} consumer pods`,
    );
    const results: RunResult[] = [];
    mkdirSync(resultsDir, { recursive: true });
    for (const scenario of executionOrder) {
      for (let run = 1; run <= runs; run++) {
        results.push(await runOnce(cluster, namespace, consumers, target, scenario, run));
        // A long bench that fails later keeps what it measured so far.
        writeFileSync(join(resultsDir, 'traffic.partial.json'), `${JSON.stringify(results, null, 2)}\n`);
      }
    }
    const benchMs = Date.now() - started;
    const table = tableOf(results);
    const notes = [
      `${rate} storefront requests/s (${storefrontPaths.length} paths, keep-alive) through the Service ClusterIP; ${runs} runs per scenario; p50/p99 over answered requests; failed = 4xx/5xx or no response.`,
      `Messages: the product-updates consumer (${consumerReplicas} pods, --max-messages 10, its own queue, visibility timeout ${visibilityTimeoutSeconds} s); processed = recorded by a consumer (database row or log line), duplicated = processed more than once, lost = never processed and no longer queued.`,
      `up() on the running environment: ${fmt(upMs / 1000, 1)} s; bench (set-up and scenarios): ${fmt(benchMs / 60_000, 1)} min.`,
    ];
    console.log(`${table}\n\n${notes.join('\n')}`);
    writeFileSync(join(resultsDir, 'traffic.md'), `${table}\n\n${notes.join('\n\n')}\n`);
    writeFileSync(
      join(resultsDir, 'traffic.json'),
      `${JSON.stringify({ rate, runs, upMs, benchMs, paths: storefrontPaths, results }, null, 2)}\n`,
    );
    await plot(results);
  } finally {
    await consumers
      ?.close()
      .catch((error: unknown) => console.error(`could not delete ${namespace}'s queue:`, error));
    sqs.destroy();
    // In the background (terminating pods take their grace period); a failure to clean up is reported, not fatal.
    await cluster.core
      .deleteNamespace({ name: namespace })
      .catch((error: unknown) => console.error(`could not delete ${namespace}:`, error));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
