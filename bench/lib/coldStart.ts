import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { seededRandom } from '../scalerSim/random.ts';
import type { Variant } from './bundleVariants.ts';
import type { InitSample } from './childInit.ts';
import type { FunctionUnderTest } from './slsBundles.ts';
import { fmt } from './stats.ts';

/** A function × variant: its bundle and what its cold starts measured (or why they could not). */
export interface Cell {
  readonly fn: FunctionUnderTest;
  readonly variant: Variant;
  readonly bundlePath: string | undefined;
  readonly samples: InitSample[];
  failure: string | undefined;
}

/** childInit.ts as CommonJS in `outDir`, so the measured processes run no TypeScript loader. */
export async function compileChild(outDir: string): Promise<string> {
  const outfile = join(outDir, 'childInit.cjs');
  await build({
    entryPoints: [join(import.meta.dirname, 'childInit.ts')],
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

/** One cold start in a fresh process of this Node; the sample arrives on file descriptor 3. */
function measureOnce(child: string, cell: Cell, bundlePath: string): Promise<InitSample> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, bundlePath], {
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

async function measureCell(child: string, cell: Cell): Promise<void> {
  if (cell.bundlePath === undefined || cell.failure !== undefined) return;
  try {
    cell.samples.push(await measureOnce(child, cell, cell.bundlePath));
  } catch (error) {
    // A function that cannot start (a broken entry, a config error) is reported, not fatal.
    cell.failure = `run: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
  }
}

function progress(done: number, total: number, started: number): void {
  const seconds = (Date.now() - started) / 1000;
  const left = (seconds / done) * (total - done);
  process.stderr.write(`  ${done}/${total} cold starts, ${fmt(seconds)} s, about ${fmt(left)} s left\n`);
}

/**
 * Measures every cell `runs` times: round by round, each round in its own shuffled order, `jobs`
 * processes at a time, so the noise of a shared machine falls on every variant alike.
 */
export async function measureAll(
  child: string,
  cells: readonly Cell[],
  runs: number,
  jobs: number,
): Promise<void> {
  const measurable = cells.filter((c) => c.bundlePath !== undefined && c.failure === undefined);
  const queue = Array.from({ length: runs }, (_, round) => shuffled(measurable, round + 1)).flat();
  const total = queue.length;
  const started = Date.now();
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) {
      await measureCell(child, cell);
      done++;
      if (done % 40 === 0) progress(done, total, started);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}
