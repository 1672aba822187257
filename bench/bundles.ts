/**
 * npm run bench:bundles — each function's bundle with and without minification and source maps, and
 * what it costs at a cold start: bytes of bundle and map; then, in a fresh Node process per sample (the
 * Node running this script, 24 like the Lambda runtime), the time to `require` the bundle and take
 * `handler` (CPU time of the process, which a busy machine disturbs far less than wall time, and wall
 * time), RSS after it, and the first failed invocation — its error's stack formatted, which is when
 * --enable-source-maps decodes the map — with RSS after it.
 *
 * The bundles are built with the options serverless.yml gives serverless-esbuild (custom.esbuild), read
 * from the file; each variant overrides only minify, sourcemap and sourcesContent. Every function gets
 * its environment from serverless.yml (stage defaults) with AWS_ENDPOINT_URL at 127.0.0.1:1; no handler
 * calls out at init, and the failed invocation fails on its event before any call.
 *
 * Prints two markdown tables (bytes; cold starts as median / p90 with ratios against the setting before
 * this bench: unminified, full map, --enable-source-maps) and writes bench/results/bundles.json.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionName } from '../scripts/demo/lambdaHost.ts';
import { type BenchCommand, benchArgsOrExit } from './lib/args.ts';
import { type BuiltFunction, type BundleSizes, buildFunction, bundlePathOf } from './lib/bundleBuild.ts';
import { before, runTimeLabelOf, type Variant, variantOf, variants } from './lib/bundleVariants.ts';
import type { InitSample } from './lib/childInit.ts';
import { type Cell, compileChild, measureAll } from './lib/coldStart.ts';
import { esbuildOptionsOf, type FunctionUnderTest, functionsOf, repoRoot } from './lib/slsBundles.ts';
import { fmt, median, quantile } from './lib/stats.ts';

const bundlesBench: BenchCommand<'runs' | 'jobs'> = {
  script: 'bench:bundles',
  summary:
    'bundle bytes, cold-start init time and RSS of every function with and without minify and source maps (builds with esbuild, starts fresh Node processes; nothing leaves the machine)',
  options: {
    runs: { description: 'fresh processes per function and variant', default: 20, min: 1, max: 200 },
    jobs: { description: 'processes measured at the same time', default: 2, min: 1, max: 8 },
  },
};

const functionNames: readonly FunctionName[] = ['imageVariants', 'imageServe', 'consumerScaler', 'rollout'];
const resultsDir = join(import.meta.dirname, 'results');
const outDir = join(resultsDir, 'bundles');

interface Spread {
  readonly median: number;
  readonly p90: number;
}

const spreadOf = (values: readonly number[]): Spread => ({
  median: median(values),
  p90: quantile(values, 0.9),
});

/** The medians and p90s of a cell; times in ms, memory in MiB. */
function summaryOf(samples: readonly InitSample[]) {
  const ms = (pick: (s: InitSample) => number) => spreadOf(samples.map(pick));
  const mib = (pick: (s: InitSample) => number) => spreadOf(samples.map((s) => pick(s) / 2 ** 20));
  return {
    initCpuMs: ms((s) => s.initCpuMs),
    initMs: ms((s) => s.initMs),
    rssBeforeInitMiB: mib((s) => s.rssBeforeInit),
    rssAfterInitMiB: mib((s) => s.rssAfterInit),
    heapUsedAfterInitMiB: mib((s) => s.heapUsedAfterInit),
    firstErrorCpuMs: ms((s) => s.firstErrorCpuMs),
    firstErrorMs: ms((s) => s.firstErrorMs),
    secondErrorMs: ms((s) => s.secondErrorMs),
    rssAfterFirstErrorMiB: mib((s) => s.rssAfterFirstError),
    heapUsedAfterFirstErrorMiB: mib((s) => s.heapUsedAfterFirstError),
    mappedStack: samples.every((s) => s.mappedStack),
  };
}

type Summary = ReturnType<typeof summaryOf>;

const pair = (s: Spread): string => `${fmt(s.median)} / ${fmt(s.p90)}`;
const ratio = (value: number, reference: number | undefined): string =>
  reference === undefined || reference === 0 ? '—' : `${fmt(value / reference, 2)}×`;
const mb = (bytes: number): string => fmt(bytes / 1e6, 2);
const fnLabel = (fn: FunctionUnderTest): string => `${fn.name} (${fn.memoryMb} MB)`;

function bytesTable(
  fns: readonly FunctionUnderTest[],
  built: ReadonlyMap<FunctionName, BuiltFunction>,
): string {
  const lines = [
    '| function | minify | bundle MB | map MB | map w/o sourcesContent MB |',
    '|---|---|---|---|---|',
  ];
  for (const fn of fns) {
    const result = built.get(fn.name);
    if (result === undefined || !result.ok) {
      lines.push(`| ${fnLabel(fn)} | | build failed: ${result?.ok === false ? result.failure : '?'} | | |`);
      continue;
    }
    const line = (minify: string, s: BundleSizes) =>
      `| ${fnLabel(fn)} | ${minify} | ${mb(s.jsBytes)} | ${mb(s.mapBytes)} | ${mb(s.mapWithoutSourcesBytes)} |`;
    lines.push(line('off', result.plain), line('on', result.minified));
  }
  return lines.join('\n');
}

const cellKey = (fn: FunctionName, variant: Variant): string => `${fn}/${variant.id}`;

function roleOf(cell: Cell): string {
  const roles = [
    ...(variantOf(before) === cell.variant ? ['before'] : []),
    ...(variantOf(cell.fn.deployed) === cell.variant ? ['**deployed**'] : []),
  ];
  return roles.join(', ');
}

function row(cell: Cell, summary: Summary | undefined, reference: Summary | undefined): string {
  const head = [
    fnLabel(cell.fn),
    cell.variant.setting.minify ? 'on' : 'off',
    runTimeLabelOf(cell.variant.setting),
    roleOf(cell),
  ];
  if (summary === undefined)
    return `| ${[...head, cell.failure ?? 'no samples'].join(' | ')} | | | | | | | |`;
  const cells = [
    pair(summary.initCpuMs),
    ratio(summary.initCpuMs.median, reference?.initCpuMs.median),
    pair(summary.initMs),
    pair(summary.rssAfterInitMiB),
    ratio(summary.rssAfterInitMiB.median, reference?.rssAfterInitMiB.median),
    pair(summary.firstErrorCpuMs),
    pair(summary.rssAfterFirstErrorMiB),
    summary.mappedStack ? 'yes' : 'no',
  ];
  return `| ${[...head, ...cells].join(' | ')} |`;
}

function coldStartTable(cells: readonly Cell[], summaries: ReadonlyMap<string, Summary>): string {
  const lines = [
    '| function | minify | source map at run time | setting | init CPU ms (median / p90) | init CPU vs before | init wall ms (median / p90) | RSS MiB after init (median / p90) | RSS vs before | first error CPU ms (median / p90) | RSS MiB after first error (median / p90) | stack mapped |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const beforeVariant = variantOf(before);
  for (const cell of cells) {
    const reference = beforeVariant && summaries.get(cellKey(cell.fn.name, beforeVariant));
    lines.push(row(cell, summaries.get(cellKey(cell.fn.name, cell.variant)), reference));
  }
  return lines.join('\n');
}

function cellsOf(fns: readonly FunctionUnderTest[], built: ReadonlyMap<FunctionName, BuiltFunction>): Cell[] {
  return fns.flatMap((fn) =>
    variants.map((variant): Cell => {
      const result = built.get(fn.name);
      const ok = result?.ok === true;
      const { minify, sourcemap } = variant.setting;
      return {
        fn,
        variant,
        bundlePath: ok ? bundlePathOf(outDir, fn, minify, sourcemap) : undefined,
        samples: [],
        failure: result?.ok === false ? `build: ${result.failure}` : undefined,
      };
    }),
  );
}

function writeResults(cells: readonly Cell[], summaries: ReadonlyMap<string, Summary>, meta: object): void {
  const rows = cells.map((cell) => ({
    function: cell.fn.name,
    memoryMb: cell.fn.memoryMb,
    variant: cell.variant.id,
    setting: cell.variant.setting,
    deployed: variantOf(cell.fn.deployed) === cell.variant,
    failure: cell.failure,
    summary: summaries.get(cellKey(cell.fn.name, cell.variant)),
    samples: cell.samples,
  }));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'bundles.json'), `${JSON.stringify({ ...meta, cells: rows }, null, 2)}\n`);
}

async function main(): Promise<void> {
  const { runs, jobs } = benchArgsOrExit(bundlesBench);
  const yamlText = readFileSync(join(repoRoot, 'serverless.yml'), 'utf8');
  const base = esbuildOptionsOf(yamlText);
  const fns = functionsOf(functionNames, yamlText);
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // The repository's package.json says "type": "module"; a Lambda package's says nothing (CommonJS).
  writeFileSync(join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  const [child, ...results] = await Promise.all([
    compileChild(outDir),
    ...fns.map((fn) => buildFunction(outDir, base, fn)),
  ]);
  const built = new Map(fns.map((fn, i) => [fn.name, results[i] as BuiltFunction]));
  const buildSeconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `built ${fns.length} functions, minified and not, in ${fmt(buildSeconds)} s; ${runs} cold starts per function × ${variants.length} variants, ${jobs} at a time on Node ${process.version}\n`,
  );
  const cells = cellsOf(fns, built);
  await measureAll(child as string, cells, runs, jobs);
  const summaries = new Map(
    cells
      .filter((c) => c.samples.length > 0)
      .map((c) => [cellKey(c.fn.name, c.variant), summaryOf(c.samples)]),
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(`${bytesTable(fns, built)}\n\n${coldStartTable(cells, summaries)}`);
  console.log(
    `\n${runs} cold starts per row, ${jobs} at a time; Node ${process.version}; ${fmt(seconds)} s in all.`,
  );
  writeResults(cells, summaries, {
    node: process.version,
    date: new Date().toISOString(),
    runs,
    jobs,
    seconds,
    buildSeconds,
    esbuild: base,
    sizes: Object.fromEntries(built),
  });
}

await main();
