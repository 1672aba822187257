/**
 * npm run bench:bundles — each function's bundle with and without minification and source maps, and
 * what it costs at a cold start: bytes of bundle and map; then, in a fresh Node process per sample (the
 * Node running this script, 24 like the Lambda runtime), the time to `require` the bundle and take
 * `handler`, RSS and heap after it, and the first failed invocation — the error's stack formatted, which
 * is when --enable-source-maps decodes the map — with RSS after it.
 *
 * The bundles are built with the options serverless.yml gives serverless-esbuild (custom.esbuild), read
 * from the file; each variant overrides only minify, sourcemap and sourcesContent. Every function gets
 * its environment from serverless.yml (stage defaults) with AWS_ENDPOINT_URL at 127.0.0.1:1; no handler
 * calls out at init, and the failed invocation fails on its event before any call.
 *
 * Samples of every function × variant are interleaved in a shuffled order, so the noise of a shared
 * machine falls on all alike. Prints a markdown table (median / p90; ratios against the setting before
 * this bench: unminified, full map, --enable-source-maps); writes bench/results/bundles.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import type { FunctionName } from '../scripts/demo/lambdaHost.ts';
import { type BenchCommand, benchArgsOrExit } from './lib/args.ts';
import {
  before,
  buildIdOf,
  sameSetting,
  settingLabel,
  type Variant,
  variants,
} from './lib/bundleVariants.ts';
import type { InitSample } from './lib/childInit.ts';
import { esbuildOptionsOf, type FunctionUnderTest, functionsOf, repoRoot } from './lib/slsBundles.ts';
import { fmt, median, quantile } from './lib/stats.ts';
import { seededRandom } from './scalerSim/random.ts';

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

interface Bundle {
  readonly jsPath: string;
  readonly jsBytes: number;
  readonly mapBytes: number;
}

/** A function × variant: its bundle and what its samples measured (or why it could not be measured). */
interface Cell {
  readonly fn: FunctionUnderTest;
  readonly variant: Variant;
  readonly bundle: Bundle | undefined;
  readonly samples: InitSample[];
  failure: string | undefined;
}

const cellKey = (fn: FunctionName, variant: Variant): string => `${fn}/${variant.id}`;

/** A function's bundle, minified or not, with its full source map, as esbuild returned it. */
interface Output {
  readonly js: string;
  readonly map: string;
}

/** Directory of the files of one bundling variant (the Node flag does not change the files). */
const dirOf = (setting: Variant['setting']): string => join(outDir, buildIdOf(setting), 'functions');
const baseName = (entry: string): string => entry.replace(/^.*\//, '').replace(/\.ts$/, '');

/** One esbuild build of a function with the options serverless-esbuild passes, plus minify and a map. */
async function bundleOnce(base: BuildOptions, fn: FunctionUnderTest, minify: boolean): Promise<Output> {
  const result = await build({
    ...base,
    minify,
    sourcemap: true,
    entryPoints: [join(repoRoot, fn.entry)],
    outdir: dirOf({ minify, sourcemap: 'full', enableSourceMaps: false }),
    absWorkingDir: repoRoot,
    write: false,
    logLevel: 'silent',
  });
  const text = (suffix: string): string => {
    const file = result.outputFiles.find((f) => f.path.endsWith(suffix));
    if (file === undefined) throw new Error(`esbuild wrote no ${suffix} for ${fn.entry}`);
    return file.text;
  };
  return { js: text('.js'), map: text('.js.map') };
}

/**
 * The files of a variant, derived from the build with a full map: esbuild 0.28's output with
 * `sourcemap: false` is that bundle without its sourceMappingURL line, and its map with
 * `sourcesContent: false` is that map without its sourcesContent line (checked byte for byte), so one
 * build per minify setting serves all three, which matters on a shared machine.
 */
function writeVariant(fn: FunctionUnderTest, setting: Variant['setting'], output: Output): Bundle {
  const jsPath = join(dirOf(setting), `${baseName(fn.entry)}.js`);
  mkdirSync(dirOf(setting), { recursive: true });
  const js =
    setting.sourcemap === 'none' ? output.js.replace(/\/\/# sourceMappingURL=[^\n]*\n?$/, '') : output.js;
  writeFileSync(jsPath, js);
  if (setting.sourcemap === 'none') return { jsPath, jsBytes: Buffer.byteLength(js), mapBytes: 0 };
  const map =
    setting.sourcemap === 'full'
      ? output.map
      : output.map
          .split('\n')
          .filter((line) => !line.startsWith('  "sourcesContent": '))
          .join('\n');
  writeFileSync(`${jsPath}.map`, map);
  return { jsPath, jsBytes: Buffer.byteLength(js), mapBytes: Buffer.byteLength(map) };
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** esbuild's first error with its place, or the error's first line. */
function buildError(error: unknown): string {
  const first = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] })
    .errors?.[0];
  if (first === undefined) return firstLine(error);
  return first.location ? `${first.location.file}:${first.location.line}: ${first.text}` : first.text;
}

/** Every function built twice (minify off, on), concurrently; a function that does not build is reported, not fatal. */
async function buildCells(fns: readonly FunctionUnderTest[], base: BuildOptions): Promise<Cell[]> {
  const perFunction = fns.map(async (fn) => {
    const outputs = await Promise.all([bundleOnce(base, fn, false), bundleOnce(base, fn, true)]).then(
      ([plain, minified]) => ({ plain, minified }),
      (error: unknown) => buildError(error),
    );
    return variants.map((variant): Cell => {
      if (typeof outputs === 'string')
        return { fn, variant, bundle: undefined, samples: [], failure: `build: ${outputs}` };
      const output = variant.setting.minify ? outputs.minified : outputs.plain;
      return {
        fn,
        variant,
        bundle: writeVariant(fn, variant.setting, output),
        samples: [],
        failure: undefined,
      };
    });
  });
  return (await Promise.all(perFunction)).flat();
}

/** childInit.ts as CommonJS, so the measured processes run no TypeScript loader. */
async function compileChild(): Promise<string> {
  const outfile = join(outDir, 'childInit.cjs');
  await build({
    entryPoints: [join(import.meta.dirname, 'lib', 'childInit.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** The process environment of a cold start in Lambda, as far as the function's code reads it. */
function lambdaEnv(fn: FunctionUnderTest, enableSourceMaps: boolean): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: `m2-eks-pipeline-bench-${fn.name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    // Nothing leaves the machine: a call would fail at once (no handler calls out at init anyway).
    AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
    ...fn.env,
    ...(enableSourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
  };
}

/** One cold start in a fresh process; the sample arrives on file descriptor 3. */
function measureOnce(child: string, cell: Cell, bundle: Bundle): Promise<InitSample> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, bundle.jsPath], {
      env: lambdaEnv(cell.fn, cell.variant.setting.enableSourceMaps),
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let result = '';
    let stderr = '';
    proc.stdio[3]?.on('data', (chunk: Buffer) => {
      result += chunk.toString();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code === 0 && result !== '') resolve(JSON.parse(result) as InitSample);
      else reject(new Error(`exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** Fisher–Yates with a seeded generator: the same order on every run of the bench. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Runs every cell `runs` times, round by round in shuffled order, `jobs` processes at a time. */
async function measureAll(child: string, cells: readonly Cell[], runs: number, jobs: number): Promise<void> {
  const measurable = cells.filter((c) => c.bundle !== undefined && c.failure === undefined);
  const queue = Array.from({ length: runs }, (_, round) => shuffled(measurable, round + 1)).flat();
  const started = Date.now();
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) {
      await measureCell(child, cell);
      done++;
      if (done % 20 === 0) progress(done, done + queue.length, started);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}

async function measureCell(child: string, cell: Cell): Promise<void> {
  if (cell.bundle === undefined || cell.failure !== undefined) return;
  try {
    cell.samples.push(await measureOnce(child, cell, cell.bundle));
  } catch (error) {
    cell.failure = `run: ${firstLine(error)}`;
  }
}

function progress(done: number, total: number, started: number): void {
  const seconds = (Date.now() - started) / 1000;
  const eta = (seconds / done) * (total - done);
  process.stderr.write(`  ${done}/${total} cold starts, ${fmt(seconds)} s, about ${fmt(eta)} s left\n`);
}

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
  const mib = (pick: (s: InitSample) => number) => spreadOf(samples.map((s) => pick(s) / 2 ** 20));
  return {
    initMs: spreadOf(samples.map((s) => s.initMs)),
    initCpuMs: spreadOf(samples.map((s) => s.initCpuMs)),
    rssAfterInitMiB: mib((s) => s.rssAfterInit),
    heapUsedAfterInitMiB: mib((s) => s.heapUsedAfterInit),
    rssBeforeInitMiB: mib((s) => s.rssBeforeInit),
    firstErrorMs: spreadOf(samples.map((s) => s.firstErrorMs)),
    firstErrorCpuMs: spreadOf(samples.map((s) => s.firstErrorCpuMs)),
    secondErrorMs: spreadOf(samples.map((s) => s.secondErrorMs)),
    rssAfterFirstErrorMiB: mib((s) => s.rssAfterFirstError),
    mappedStack: samples.every((s) => s.mappedStack),
  };
}

type Summary = ReturnType<typeof summaryOf>;

const pair = (s: Spread, digits = 0): string => `${fmt(s.median, digits)} / ${fmt(s.p90, digits)}`;
const ratio = (value: number, reference: number | undefined): string =>
  reference === undefined || reference === 0 ? '—' : `${fmt(value / reference, 2)}×`;
const mb = (bytes: number): string => (bytes === 0 ? '—' : fmt(bytes / 1e6, 2));

function roleOf(cell: Cell): string {
  const roles = [
    ...(sameSetting(cell.variant.setting, before) ? ['before'] : []),
    ...(sameSetting(cell.variant.setting, cell.fn.deployed) ? ['**deployed**'] : []),
  ];
  return roles.join(', ');
}

function row(cell: Cell, summary: Summary | undefined, reference: Summary | undefined): string {
  const head = [`${cell.fn.name} (${cell.fn.memoryMb} MB)`, settingLabel(cell.variant.setting), roleOf(cell)];
  const bytes = [mb(cell.bundle?.jsBytes ?? 0), mb(cell.bundle?.mapBytes ?? 0)];
  if (summary === undefined)
    return `| ${[...head, ...bytes, cell.failure ?? 'no samples'].join(' | ')} | | | | | | | |`;
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
  return `| ${[...head, ...bytes, ...cells].join(' | ')} |`;
}

function table(cells: readonly Cell[], summaries: ReadonlyMap<string, Summary>): string {
  const lines = [
    '| function | variant | setting | bundle MB | map MB | init CPU ms (median / p90) | init CPU vs before | init wall ms (median / p90) | RSS MiB after init (median / p90) | RSS vs before | first error CPU ms (median / p90) | RSS MiB after first error (median / p90) | stack mapped |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const cell of cells) {
    const beforeVariant = variants.find((v) => sameSetting(v.setting, before));
    const reference = beforeVariant && summaries.get(cellKey(cell.fn.name, beforeVariant));
    lines.push(row(cell, summaries.get(cellKey(cell.fn.name, cell.variant)), reference));
  }
  return lines.join('\n');
}

function writeResults(cells: readonly Cell[], summaries: ReadonlyMap<string, Summary>, meta: object): void {
  const functions = cells.map((cell) => ({
    function: cell.fn.name,
    memoryMb: cell.fn.memoryMb,
    variant: cell.variant.id,
    setting: cell.variant.setting,
    deployed: sameSetting(cell.variant.setting, cell.fn.deployed),
    bundleBytes: cell.bundle?.jsBytes,
    mapBytes: cell.bundle?.mapBytes,
    failure: cell.failure,
    summary: summaries.get(cellKey(cell.fn.name, cell.variant)),
    samples: cell.samples,
  }));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'bundles.json'), `${JSON.stringify({ ...meta, functions }, null, 2)}\n`);
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
  const [child, cells] = await Promise.all([compileChild(), buildCells(fns, base)]);
  const buildSeconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `built ${fns.length} functions, minified and not, in ${fmt(buildSeconds)} s; ${runs} cold starts per function × ${variants.length} variants, ${jobs} at a time on ${process.version}\n`,
  );
  await measureAll(child, cells, runs, jobs);
  const summaries = new Map(
    cells
      .filter((c) => c.samples.length > 0)
      .map((c) => [cellKey(c.fn.name, c.variant), summaryOf(c.samples)]),
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(table(cells, summaries));
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
  });
}

await main();
