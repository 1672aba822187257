/**
 * `npm run demo [-- --keep --messages N --photos N --out DIR]`: the README's first command. Brings up
 * the embedded AWS + EKS (building the Kubernetes binaries on the first run), puts the example shop
 * on it, and runs every function as its real handler in a warm "Lambda container" of its own
 * (lambdaHost.ts): product photographs through imageVariants, a queue burst through consumerScaler,
 * a good and a broken release through rollout. Writes out/report.html and prints a summary table.
 *
 * Two lanes (lane.ts): on KWOK nodes (the default) pods are status records; with M2_REAL_NODES=1 the
 * example shop's web and consumer pods run on the real kubelet nodes, the consumer pods drain the
 * burst themselves, and the storefront is under a bounded load (bench:traffic's generator) during
 * every release, its requests/s and failed requests plotted beside the available replicas.
 *
 * Idempotent: every run starts from a fresh example-shop namespace, purged queues and no variants of
 * its photographs. Stops what it started, unless --keep; an environment that already ran before the
 * demo (a developer's `npm run local:up`) is reused and left running.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Listr, type ListrTask, PRESET_TIMER } from 'listr2';
import { messageOf } from '../../lib/common/messageOf.ts';
import { loadImageVariantsConfig } from '../../lib/config/imageVariantsConfig.ts';
import { ConflictError } from '../../lib/k8s/errors.ts';
import { metricNames } from '../../lib/observability/metricNames.ts';
import { down } from '../local/down.ts';
import { k8sRunning } from '../local/k8s.ts';
import { ensureShopSchema, shopRows } from '../local/mariadb.ts';
import { localDir, runningPid } from '../local/proc.ts';
import { up } from '../local/up.ts';
import { buildEstimateSeconds, buildRemaining, DemoArgsError, demoUsage, parseDemoArgs } from './args.ts';
import { ConsumerPods } from './burst/consumerPods.ts';
import { burstScalerEnv, runBurst } from './burst.ts';
import { MetricTally } from './emf.ts';
import { functionSettings } from './functionEnv.ts';
import { ensurePhotos, runImages } from './images.ts';
import { type FunctionName, LambdaHost } from './lambdaHost.ts';
import { type DemoLane, requestedLane } from './lane.ts';
import { renderPlots } from './plots.ts';
import { type ReleasePlan, releasesOf } from './releases.ts';
import { storefrontLoad } from './releaseTraffic.ts';
import {
  bytesText,
  type DemoData,
  formatTotals,
  releaseLine,
  renderReportHtml,
  type StepTiming,
  summaryRows,
  textTable,
} from './report.ts';
import { type ReleaseRun, rolloutTokenSecret, runRelease } from './rollouts.ts';
import {
  adminApps,
  resetExampleShop,
  resetRealShop,
  resetShopQueues,
  type ShopQueue,
  shopNamespace,
  webDeployment,
  webServiceUrl,
} from './shop.ts';
import { runStorefront } from './storefront.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const buildScript = join(repoRoot, 'scripts', 'local', 'build-k8s.sh');
const k8sBinaries = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];
/** The consumer Deployment the burst scales (the busiest queue of a Magento shop: attribute updates). */
const burstDeployment = 'm2-consumer-product-updates';
/**
 * Storefront requests per second during each release on real nodes: bench:traffic's default, modest
 * on 2 shared cores (php-fpm, nginx, the consumers and the generator share them).
 */
const storefrontRate = 20;
/** Steady storefront load before each release's first job. */
const storefrontBaselineMs = 5_000;

interface Hosts {
  readonly imageVariants: LambdaHost;
  readonly imageServe: LambdaHost;
  readonly consumerScaler: LambdaHost;
  readonly rollout: LambdaHost;
}

interface DemoContext {
  readonly lane: DemoLane;
  /** Failures that fail the demo at the end without stopping the steps after them. */
  readonly failures: string[];
  alreadyRunning: boolean;
  /** m2-http's Service (real-node lane): where the storefront load goes. */
  webUrl?: string;
  hosts?: Hosts;
  tallies: Record<FunctionName, MetricTally>;
  queues: ShopQueue[];
  steps: StepTiming[];
  environment: string;
  images?: DemoData['images'];
  storefront?: DemoData['storefront'];
  burst?: DemoData['burst'];
  releases: ReleaseRun[];
  versions: Record<string, string>;
}

const elapsed = (since: number): string => {
  const s = Math.floor((Date.now() - since) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

function binDir(): string {
  return execFileSync('bash', [buildScript, '--print-bin-dir'], { encoding: 'utf8' }).trim();
}

/** Runs build-k8s.sh, its output going to `line`; rejects when it fails. */
function buildK8s(line: (text: string) => void): Promise<void> {
  const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', line);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`bash scripts/local/build-k8s.sh exited with ${code}`)),
    );
  });
}

function versions(): Record<string, string> {
  const tryRun = (cmd: string, args: string[]): string | undefined => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined; // A version we cannot read is left out of the report.
    }
  };
  const entries: [string, string | undefined][] = [
    ['commit', tryRun('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'])],
    ['node', process.version],
    ['cluster binaries', basename(binDir())],
    ['moto', tryRun('python3', ['-c', 'import moto; print(moto.__version__)'])],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined));
}

async function main(): Promise<number> {
  // Before the environment starts: a reused environment with real nodes adds M2_REAL_NODES=1 (lane.ts).
  const lane = requestedLane();
  let args: ReturnType<typeof parseDemoArgs>;
  try {
    args = parseDemoArgs(process.argv.slice(2), lane);
  } catch (error) {
    if (error instanceof DemoArgsError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    console.log(demoUsage);
    return 0;
  }
  const started = Date.now();
  const outDir = resolve(args.outDir);
  const logDir = join(outDir, 'logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  // A plain line per event where nobody watches a terminal (CI logs, pipes); the live view otherwise.
  const plain = !process.stdout.isTTY || (process.env.CI !== undefined && process.env.CI !== 'false');
  const listrOptions = {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false,
    renderer: 'default',
    rendererOptions: { timer: PRESET_TIMER, collapseSubtasks: false },
    fallbackRenderer: 'simple',
    fallbackRendererOptions: { timer: PRESET_TIMER },
    fallbackRendererCondition: plain,
  } as const;
  const taskOptions = { outputBar: 6, persistentOutput: true } as const;

  const ctx: DemoContext = {
    lane,
    failures: [],
    alreadyRunning: false,
    tallies: {
      imageVariants: new MetricTally(),
      consumerScaler: new MetricTally(),
      rollout: new MetricTally(),
      imageServe: new MetricTally(),
    },
    queues: [],
    steps: [],
    environment: '',
    releases: [],
    versions: {},
  };
  /** Wraps a task so its wall time lands in the report's step table. */
  const timed =
    (step: string, task: ListrTask<DemoContext>['task']): ListrTask<DemoContext>['task'] =>
    async (c, t) => {
      const t0 = Date.now();
      try {
        return await task(c, t);
      } finally {
        c.steps.push({ step, seconds: (Date.now() - t0) / 1000 });
      }
    };

  const releaseTask = ({ label, imageTag, params, tailSeconds }: ReleasePlan): ListrTask<DemoContext> => ({
    title: `Rollout: ${label} (${imageTag})${lane === 'real-nodes' ? `, storefront under ${storefrontRate} req/s` : ''}`,
    rendererOptions: taskOptions,
    task: timed(`rollout ${label}`, async (c, task) => {
      const hosts = c.hosts;
      if (hosts === undefined) throw new Error('the function hosts are not running');
      const job = { namespace: shopNamespace, imageTag, timeoutSeconds: 300, ...params };
      const load =
        c.webUrl === undefined
          ? undefined
          : storefrontLoad({
              target: c.webUrl,
              rate: storefrontRate,
              baselineMs: storefrontBaselineMs,
              tailMs: tailSeconds * 1000,
              // Bounded even if the release overruns its own timeout: baseline + timeout + tail + 60 s.
              maxMs: storefrontBaselineMs + (Number(job.timeoutSeconds) + tailSeconds + 60) * 1000,
            });
      const run = await runRelease(label, job, {
        ...(load === undefined ? {} : { load }),
        host: hosts.rollout,
        tally: c.tallies.rollout,
        apps: adminApps(),
        namespace: shopNamespace,
        webDeployment,
        codePipelineEndpoint: requiredEnv('AWS_ENDPOINT_URL_CODEPIPELINE'),
        progress: (line) => {
          task.output = line;
        },
      });
      c.releases.push(run);
      const failure = run.report?.body.failureDetails;
      task.title = `Rollout: ${label} (${imageTag}) — ${releaseLine(run)}`;
      if (failure !== undefined) task.output = `CodePipeline was told: ${failure.type}: ${failure.message}`;
      if (run.error !== undefined) throw new Error(`rollout function failed: ${run.error}`);
      if (run.trafficError !== undefined) throw new Error(`the storefront load failed: ${run.trafficError}`);
    }),
  });

  const tasks = new Listr<DemoContext, 'default', 'simple'>(
    [
      {
        title: 'Kubernetes binaries',
        rendererOptions: taskOptions,
        task: timed('kubernetes binaries', async (_c, task) => {
          const dir = binDir();
          const missing = k8sBinaries.filter((b) => !existsSync(join(dir, b)));
          if (missing.length === 0) {
            task.title = `Kubernetes binaries: cached in ${dir}`;
            return;
          }
          const t0 = Date.now();
          const estimateS = buildEstimateSeconds(availableParallelism());
          const title = `Building Kubernetes from Go modules (first run only, about ${Math.round(estimateS / 60)} minutes here; 9 on 2 cores)`;
          task.title = `${title} — 0:00`;
          const tick = setInterval(() => {
            task.title = `${title} — ${elapsed(t0)} elapsed, ${buildRemaining(estimateS, (Date.now() - t0) / 1000)}`;
          }, 1000);
          try {
            await buildK8s((line) => {
              task.output = line;
            });
          } finally {
            clearInterval(tick);
          }
          task.title = `Kubernetes binaries: built in ${elapsed(t0)} into ${dir}`;
        }),
      },
      {
        title: `Embedded AWS (moto) + EKS (kube-apiserver, ${lane === 'real-nodes' ? 'KWOK and real nodes' : 'KWOK nodes'})`,
        rendererOptions: taskOptions,
        task: timed('environment up', async (c, task) => {
          // Either half already running means someone else's `local:up`: reuse it and leave it running.
          c.alreadyRunning = runningPid('moto') !== undefined || k8sRunning();
          const t0 = Date.now();
          Object.assign(process.env, await up());
          c.versions = versions();
          c.environment = c.alreadyRunning
            ? `embedded environment already running in ${localDir}: reused, left running`
            : `embedded environment started in ${localDir} (${((Date.now() - t0) / 1000).toFixed(1)} s)${args.keep ? ', left running (--keep)' : ', stopped afterwards'}`;
          task.title = `Embedded AWS + EKS: ${c.alreadyRunning ? 'already running, reused' : `up in ${((Date.now() - t0) / 1000).toFixed(1)} s`}`;
          task.output = `AWS ${process.env.AWS_ENDPOINT_URL}, EKS ${process.env.EKS_ENDPOINT_OVERRIDE}; function logs in ${relative(process.cwd(), logDir)}/`;
          const host = (name: FunctionName, extraEnv: Record<string, string> = {}) => {
            const settings = functionSettings(name);
            return new LambdaHost(name, {
              env: { ...settings.env, ...extraEnv },
              timeoutMs: settings.timeoutMs,
              memoryMb: settings.memoryMb,
              logDir,
              onLogLine: c.tallies[name].onLogLine,
            });
          };
          c.hosts = {
            imageVariants: host('imageVariants'),
            imageServe: host('imageServe'),
            consumerScaler: host('consumerScaler', { ...burstScalerEnv }),
            // The continuation-token key, as the stage param rolloutTokenSecret names it in AWS.
            rollout: host('rollout', { ROLLOUT_TOKEN_SECRET_ARN: await rolloutTokenSecret() }),
          };
        }),
      },
      {
        title: `Example shop from k8s-manifests (namespace example-shop${lane === 'real-nodes' ? ', local-real overlay on the real nodes' : ''}) and its SQS queues`,
        rendererOptions: taskOptions,
        task: timed('example shop', async (c, task) => {
          const progress = (line: string) => {
            task.output = line;
          };
          if (c.lane === 'real-nodes') {
            await resetRealShop(progress);
            c.webUrl = await webServiceUrl();
          } else await resetExampleShop(progress);
          c.queues = await resetShopQueues();
          task.title = `Example shop applied (namespace ${shopNamespace}; m2-http at 3 replicas${c.webUrl === undefined ? '' : ` on real nodes behind ${c.webUrl}`}); ${c.queues.length} queues created and purged`;
        }),
      },
      {
        title: 'Product photographs → S3 → imageVariants',
        rendererOptions: taskOptions,
        task: timed('images', async (c, task) => {
          const hosts = c.hosts;
          if (hosts === undefined) throw new Error('the function hosts are not running');
          const progress = (line: string) => {
            task.output = line;
          };
          await ensurePhotos(progress);
          const settings = functionSettings('imageVariants');
          const result = await runImages({
            host: hosts.imageVariants,
            tally: c.tallies.imageVariants,
            bucket: requiredValue(settings.env.MEDIA_BUCKET, 'MEDIA_BUCKET'),
            layout: loadImageVariantsConfig(settings.env).settings.layout,
            region: requiredEnv('AWS_REGION'),
            photoCacheDir: join(localDir, 'demo', 'photos'),
            count: args.photos,
            progress,
          });
          c.images = result;
          const originalBytes = result.originals.reduce((s, o) => s + o.bytes, 0);
          const formats = formatTotals(result.variants)
            .filter((f) => f.vsJpeg !== undefined)
            .map((f) => `${f.format} ${((f.vsJpeg ?? 0) * 100).toFixed(0)} % vs JPEG`)
            .join(', ');
          task.title = `Product photographs → imageVariants: ${result.originals.length} originals (${bytesText(originalBytes)}) → ${result.metrics.generated} variants (${bytesText(result.metrics.variantBytes)}); ${formats}`;
          if (result.failures.length > 0)
            throw new Error(`imageVariants did not generate: ${result.failures.join('; ')}`);
        }),
      },
      {
        title: 'Storefront URLs → imageServe (Magento hash, Magento parameters, PWA Studio)',
        rendererOptions: taskOptions,
        task: timed('storefront', async (c, task) => {
          const hosts = c.hosts;
          const first = c.images?.originals[0];
          if (hosts === undefined || first === undefined) throw new Error('no original was processed');
          const layout = loadImageVariantsConfig(functionSettings('imageVariants').env).settings.layout;
          const result = await runStorefront({
            host: hosts.imageServe,
            mediaPath: first.key.slice(layout.mediaPrefix.length),
            originalKey: first.key,
          });
          c.storefront = result;
          const bad = result.fetches.filter((f) => f.status !== 200);
          task.title = `Storefront URLs → imageServe: ${result.fetches
            .map(
              (f) =>
                `${f.status} ${f.width ?? '?'}×${f.height ?? '?'} ${f.contentType}${f.pregenerated ? ' (pre-generated)' : ''}`,
            )
            .join(', ')} for ${first.key}`;
          if (bad.length > 0)
            throw new Error(
              `imageServe refused storefront URLs: ${bad.map((f) => `${f.status} ${f.url}`).join('; ')}`,
            );
        }),
      },
      {
        title: `Queue burst: ${args.messages} messages → consumerScaler scales ${burstDeployment}`,
        rendererOptions: taskOptions,
        task: timed('queue burst', async (c, task) => {
          const hosts = c.hosts;
          if (hosts === undefined) throw new Error('the function hosts are not running');
          const queue = c.queues.find((q) => q.deployment === burstDeployment);
          if (queue === undefined) throw new Error(`the example shop has no queue for ${burstDeployment}`);
          const shopDb = c.lane === 'real-nodes' ? ensureShopSchema(shopNamespace) : undefined;
          const burst = () =>
            runBurst({
              messages: args.messages,
              namespace: shopNamespace,
              deployment: burstDeployment,
              queueUrl: queue.queueUrl,
              scaler: hosts.consumerScaler,
              progress: (line) => {
                task.output = line;
              },
              ...(shopDb === undefined
                ? {}
                : {
                    // The consumer pods drain the queue; a pod stopping at the scale to 0 finishes its batch.
                    drain: (run: string) =>
                      new ConsumerPods((sql) => shopRows(shopDb, sql), run, burstDeployment),
                    zeroTimeoutMs: 180_000,
                    // Real pods take batches of 10, 5 s apart: draining and the scale back to zero take longer.
                    timeoutS: 600,
                  }),
            });
          let result: Awaited<ReturnType<typeof runBurst>>;
          try {
            result = await burst();
          } catch (error) {
            // The consumer Deployment is written by the Deployment controller, the scaler and this
            // step at once; a conflict that still escapes runBurst is not a verdict on the scaler. The
            // step leaves the queue empty when it fails, so one more attempt starts from the same state.
            if (!(error instanceof ConflictError)) throw error;
            task.output = `write conflict on ${burstDeployment} (${error.message}); starting the burst again`;
            result = await burst();
          }
          c.burst = { messages: args.messages, deployment: burstDeployment, result };
          const s = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(0)} s`);
          const recorded =
            result.deliveries === undefined
              ? ''
              : `; the pods recorded ${result.deliveries.processed} processed, ${result.deliveries.redelivered} redelivered, ${result.deliveries.missing} missing`;
          task.title = `Queue burst: ${args.messages} messages — peak ${result.peakReplicas} replicas, drained at ${s(result.drainedAtS)}, back to zero at ${s(result.zeroAtS)}${recorded}${result.timedOut ? ' — TIMED OUT' : ''}`;
          // The releases after it do not depend on the burst: they still run, and the demo fails at the end.
          if (result.timedOut) c.failures.push('the burst timed out before the Deployment was back at zero');
        }),
      },
      // One task per release of releases.ts (a third release is one more entry there).
      ...releasesOf(lane).map(releaseTask),
    ],
    listrOptions,
  );

  let failure: unknown;
  const onSignal = () => {
    failure ??= new Error('interrupted');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let cleaned = false;
  async function cleanup(): Promise<void> {
    if (cleaned) return;
    cleaned = true;
    const hosts = ctx.hosts;
    if (hosts !== undefined) await Promise.all(Object.values(hosts).map((h: LambdaHost) => h.close()));
    if (!ctx.alreadyRunning && !args.keep && (runningPid('moto') !== undefined || k8sRunning())) await down();
  }

  try {
    await tasks.run(ctx);
    if (ctx.failures.length > 0) failure = new Error(ctx.failures.join('; '));
  } catch (error) {
    failure = error;
  }

  const data: DemoData = {
    startedAt: new Date(started),
    wallS: (Date.now() - started) / 1000,
    versions: ctx.versions,
    lane,
    environment: ctx.environment,
    steps: ctx.steps,
    images: ctx.images,
    storefront: ctx.storefront,
    ...(ctx.burst === undefined ? {} : { burst: ctx.burst }),
    releases: ctx.releases,
  };
  const finish = new Listr<DemoContext, 'default', 'simple'>(
    [
      {
        title: 'Report',
        task: async (_c, task) => {
          const plots = await renderPlots(data, join(outDir, 'plots'));
          const file = join(outDir, 'report.html');
          writeFileSync(file, renderReportHtml(data, plots));
          // The figures behind the report, for comparing runs.
          writeFileSync(join(outDir, 'demo.json'), `${JSON.stringify(data, null, 2)}\n`);
          task.title = `Report: ${relative(process.cwd(), file)} (plots in ${relative(process.cwd(), join(outDir, 'plots'))}/)`;
        },
      },
      {
        title: 'Stop what the demo started',
        task: async (_c, task) => {
          const stopEnv = !ctx.alreadyRunning && !args.keep;
          await cleanup();
          task.title = ctx.alreadyRunning
            ? 'Function hosts stopped; the embedded environment was running before the demo and stays up'
            : stopEnv
              ? 'Function hosts and the embedded environment stopped'
              : `Function hosts stopped; the embedded environment stays up (--keep): source ${join(localDir, 'env')}`;
        },
      },
    ],
    { ...listrOptions, exitOnError: false },
  );
  await finish.run(ctx).catch((error: unknown) => {
    failure ??= error;
  });

  const rows = summaryRows({ ...data, wallS: (Date.now() - started) / 1000 });
  console.log(`\n${textTable(rows)}\n`);
  console.log(
    `step timings: ${ctx.steps.map((s) => `${s.step} ${s.seconds.toFixed(1)} s`).join(' · ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  const rolloutMetric = ctx.tallies.rollout.values(metricNames.rollout.duration);
  if (rolloutMetric.length > 0)
    console.log(
      `rollout's RolloutDuration metric: ${rolloutMetric.map((m) => `${m.dimensions.outcome ?? '?'} ${(m.value / 1000).toFixed(1)} s`).join(', ')}`,
    );
  if (failure !== undefined) {
    console.error(`\ndemo failed: ${messageOf(failure)}`);
    console.error(`function logs: ${relative(process.cwd(), logDir)}/`);
    return 1;
  }
  return 0;
}

function requiredEnv(name: string): string {
  return requiredValue(process.env[name], name);
}

function requiredValue(value: string | undefined, name: string): string {
  if (value === undefined || value === '')
    throw new Error(`${name} is not set (is the embedded environment up?)`);
  return value;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
