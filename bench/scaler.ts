import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchArgsOrExit, scalerBench } from './lib/args.ts';
import { writePlot } from './lib/plot.ts';
import { fmt, median, quantile } from './lib/stats.ts';
import { seededRandom } from './scalerSim/random.ts';
import { kedaHpa, messagesPerPod, ourScaler, ourScalerBefore, staticMax } from './scalerSim/scalers.ts';
import { type Trace, traces } from './scalerSim/traces.ts';
import { platform, type RunMetrics, type Scaler, simulate } from './scalerSim/world.ts';

/**
 * `npm run bench:scaler`: replays traces T1–T5 (issue 5) through consumerScaler's policy, a model
 * of KEDA aws-sqs-queue + HPA with default settings, and a static deployment at max replicas, in
 * simulated time. `--seeds N` (default 100), `--help`. Writes bench/out/scaler.md and one SVG per trace
 * (queue depth and replicas).
 */
// Before anything runs: `--help` and a bad command line end here.
const args = benchArgsOrExit(scalerBench);
const outDir = join(import.meta.dirname, 'out');
const seeds = Array.from({ length: args.seeds }, (_, i) => i + 1);

type Make = (trace: Trace, seed: number) => Scaler;
const scalers: readonly Make[] = [
  (trace, seed) => ourScaler(trace, seededRandom(seed * 7919)),
  (trace, seed) => ourScalerBefore(trace, seededRandom(seed * 7919)),
  (trace, seed) => ourScalerBefore(trace, seededRandom(seed * 7919), true),
  (trace, seed) => kedaHpa(trace, seededRandom(seed * 104729)),
  (trace) => staticMax(trace),
];

const med = (
  runs: readonly RunMetrics[],
  pick: (r: RunMetrics) => number | undefined,
): number | undefined => {
  const values = runs.map(pick);
  return values.some((v) => v === undefined || Number.isNaN(v)) ? undefined : median(values as number[]);
};
const show = (value: number | undefined, digits = 0, unit = ''): string =>
  value === undefined ? '—' : `${fmt(value, digits)}${unit}`;

const lines: string[] = [
  '| trace | scaler | time to target (median / p90) | drain | p95 wait | pod-minutes | replica changes (max per 5 min) | zero while in flight | starts from zero | min replicas under load |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
mkdirSync(outDir, { recursive: true });
for (const trace of traces) {
  const plotRows: { t: number; scaler: string; series: string; value: number }[] = [];
  for (const make of scalers) {
    const runs = seeds.map((seed) => simulate(trace, make(trace, seed), seededRandom(seed)));
    const name = make(trace, 1).name;
    const reached = runs.map((r) => r.timeToTarget);
    const p90 = reached.some((v) => v === undefined) ? undefined : quantile(reached as number[], 0.9);
    lines.push(
      `| ${trace.id} | ${name} | ${show(
        med(runs, (r) => r.timeToTarget),
        0,
        ' s',
      )} / ${show(p90, 0, ' s')} | ${show(
        med(runs, (r) => r.drainSeconds),
        0,
        ' s',
      )} | ${show(
        med(runs, (r) => r.p95WaitSeconds),
        1,
        ' s',
      )} | ${show(
        med(runs, (r) => r.podMinutes),
        0,
      )} | ${show(med(runs, (r) => r.replicaChanges))} (${show(med(runs, (r) => r.maxChangesPer5Min))}) | ${show(Math.max(...runs.map((r) => r.zeroWhileInFlight)))} | ${show(med(runs, (r) => r.coldStarts))} | ${show(med(runs, (r) => r.minReplicasUnderLoad))} |`,
    );
    for (const point of runs[0]?.series ?? []) {
      plotRows.push({ t: point.t / 60, scaler: name, series: 'queue depth (visible)', value: point.visible });
      plotRows.push({ t: point.t / 60, scaler: name, series: 'replicas requested', value: point.replicas });
    }
  }
  await writePlot(join(outDir, `scaler-${trace.id}.svg`), {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${trace.id}: ${trace.title} (seed 1)`,
    data: { values: plotRows },
    facet: { row: { field: 'series', type: 'nominal', title: null } },
    spec: {
      width: 640,
      height: 160,
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.2 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'minutes' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'scaler', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

const notes = [
  `Median of ${seeds.length} seeds (zero-while-in-flight: the worst seed). Both queue scalers use ${messagesPerPod} messages per pod and a 300 s cooldown; pods start in 6 s + log-normal (median 12 s); consumers run batches (3 s bootstrap, ${platform.pauseSeconds} s pause after each batch); SQS counts lag 0–${platform.maxCountLagSeconds} s (drawn per read); CloudWatch minutes are readable ${platform.metricDelaySeconds} s after they end; an invocation starts 0.2–1 s after its schedule tick (1 in 20 a further 1.5 s cold start) and its write lands 0.3–1.2 s after its reading.`,
  "time to target: from the first message until the trace's target replicas are requested (T1 100, T2 6, T3 1, T4 7, T5 1). drain: from the last arrival until the last message is done.",
];
const table = `${lines.join('\n')}\n\n${notes.join('\n\n')}\n`;
writeFileSync(join(outDir, 'scaler.md'), table);
console.log(table);
console.log(`plots: ${traces.map((t) => `bench/out/scaler-${t.id}.svg`).join(', ')}`);
