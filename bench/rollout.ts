/**
 * npm run bench:rollout — the rollout function against `kubectl rollout status` on the embedded
 * cluster (real control plane, KWOK pods with a 1 s readiness delay), as the m2:rollout role:
 *   good image:   a 3-replica web Deployment (maxSurge 1, maxUnavailable 0) gets a new image. The
 *                 Deployment controller's own time is measured by watching the Deployment (first
 *                 moment the new generation is complete); "overhead" is how long after that the
 *                 rollout replied to CodePipeline, resp. `kubectl rollout status` exited.
 *   broken image: `pull-error` (ImagePullBackOff) and `crashloop` (CrashLoopBackOff): time from the
 *                 image patch to the failure verdict. kubectl only fails on ProgressDeadlineExceeded,
 *                 so its Deployment gets progressDeadlineSeconds 30 (the default is 600).
 *   change feed:  the wait's RolloutChangeFeed (informers of the Deployment, its ReplicaSets and pods) as
 *                 the m2:rollout role: time from an annotation patch (sent by the admin) until the feed
 *                 wakes its waiter with the change in its cache.
 * `--rounds N` (or BENCH_ROUNDS; default 3), `--help`. Prints a markdown table; writes bench/results/rollout.{md,json,svg}.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1Deployment,
  Watch,
} from '@kubernetes/client-node';
import type { ClusterClient } from '../lib/k8s/clusterClient.ts';
import { clusterSettingsFromEnv } from '../lib/k8s/clusterSettings.ts';
import { connectCluster, connectKubeConfig } from '../lib/k8s/connection.ts';
import { rolloutStatus } from '../lib/k8s/rolloutStatus.ts';
import type { Log } from '../lib/observability/telemetry.ts';
import { RolloutChangeFeed } from '../lib/rollout/changeFeed.ts';
import { defaultRolloutSettings, runRollout } from '../lib/rollout/executor.ts';
import { CodePipelineJobResults } from '../lib/rollout/jobResults.ts';
import { smokeAnnotations } from '../lib/rollout/smokeChecks.ts';
import type { TokenKeySource } from '../lib/rollout/tokenKey.ts';
import { up } from '../scripts/local/up.ts';
import { benchArgsOrExit, rolloutBench } from './lib/args.ts';
import { writePlot } from './lib/plot.ts';
import { fmt, median } from './lib/stats.ts';

/** The embedded cluster's admin: the generated API for what the bench sets up (lib/ only has the port). */
interface Admin {
  readonly kubeConfig: KubeConfig;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
}

async function connectAdmin(path: string | undefined): Promise<Admin> {
  const { kubeConfig } = await connectKubeConfig({
    kind: 'kubeconfig',
    ...(path === undefined ? {} : { path }),
  });
  return {
    kubeConfig,
    apps: kubeConfig.makeApiClient(AppsV1Api),
    core: kubeConfig.makeApiClient(CoreV1Api),
    rbac: kubeConfig.makeApiClient(RbacAuthorizationV1Api),
  };
}

// Before anything starts: `--help` and a bad command line end here.
const { rounds } = benchArgsOrExit(rolloutBench);
const resultsDir = join(import.meta.dirname, 'results');
const manifests = join(import.meta.dirname, '..', 'k8s-manifests');
const repository = 'bench.example/magento';

type Scenario = 'good image' | 'pull-error' | 'crashloop' | 'change feed';
type Tool = 'rollout function' | 'kubectl rollout status' | 'RolloutChangeFeed';

interface Sample {
  scenario: Scenario;
  tool: Tool;
  round: number;
  /** invocation → reply/exit, ms */
  totalMs: number;
  /** good image: reply/exit after the controller completed; broken: patch → failure verdict; feed: patch → wake, ms */
  measuredMs: number;
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function kubectl(args: string[]): Promise<void> {
  const code = await run('kubectl', args);
  if (code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${code}`);
}

function webDeployment(progressDeadlineSeconds: number): V1Deployment {
  const labels = { 'app.kubernetes.io/name': 'm2-http' };
  return {
    // KWOK's pods serve nothing: no smoke check could pass here (they are measured on real nodes).
    metadata: { name: 'm2-http', labels, annotations: { [smokeAnnotations.checks]: '[]' } },
    spec: {
      replicas: 3,
      progressDeadlineSeconds,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            { name: 'php-fpm', image: `${repository}:1`, resources: { requests: { cpu: '100m' } } },
            { name: 'nginx', image: `${repository}:1`, resources: { requests: { cpu: '50m' } } },
          ],
        },
      },
    },
  };
}

/** A namespace with a ready 3-replica m2-http and the m2:rollout RoleBinding. */
async function shop(admin: Admin, progressDeadlineSeconds = 600): Promise<string> {
  const namespace = `bench-rollout-${randomBytes(3).toString('hex')}`;
  await admin.core.createNamespace({ body: { metadata: { name: namespace } } });
  await admin.rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'm2-rollout' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'm2:rollout' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'm2:rollout' }],
    },
  });
  await admin.apps.createNamespacedDeployment({ namespace, body: webDeployment(progressDeadlineSeconds) });
  await kubectl(['rollout', 'status', 'deployment/m2-http', '-n', namespace, '--timeout=120s']);
  return namespace;
}

/**
 * Resolves with the time the Deployment first completes a generation above `afterGeneration` that runs
 * `image` (annotation-only writes, such as the rollout's recorded template, bump a Deployment's generation too).
 */
async function completion(admin: Admin, namespace: string, afterGeneration: number, image: string) {
  let resolveDone: (t: number) => void = () => undefined;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  const controller = await new Watch(admin.kubeConfig).watch(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    { fieldSelector: 'metadata.name=m2-http' },
    (_phase: string, d: V1Deployment) => {
      if (
        (d.metadata?.generation ?? 0) > afterGeneration &&
        d.spec?.template.spec?.containers[0]?.image === image &&
        rolloutStatus(d).phase === 'complete'
      ) {
        resolveDone(performance.now());
      }
    },
    () => undefined,
  );
  return { done, stop: () => controller.abort() };
}

async function generationOf(admin: Admin, namespace: string): Promise<number> {
  const d = await admin.apps.readNamespacedDeployment({ namespace, name: 'm2-http' });
  return d.metadata?.generation ?? 0;
}

function timedLog(marks: Map<string, number>): Log {
  const mark = (message: string) => {
    if (!marks.has(message)) marks.set(message, performance.now());
  };
  return { debug: mark, info: mark, warn: mark, error: mark };
}

/** The job CodePipeline would have created (the stand-in's GetJobDetails answers for it). */
async function createStandInJob(jobId: string, userParameters: string): Promise<void> {
  const res = await fetch(`${process.env.AWS_ENDPOINT_URL_CODEPIPELINE ?? ''}/_jobs`, {
    method: 'POST',
    body: JSON.stringify({ jobId, pipelineName: 'bench-rollout', userParameters }),
  });
  if (!res.ok) throw new Error(`the CodePipeline stand-in refused the job: ${res.status}`);
}

const benchTokenKey: TokenKeySource = { tokenKey: async () => tokenKeyBytes };
const tokenKeyBytes = randomBytes(32);

async function ours(
  role: ClusterClient,
  admin: Admin,
  scenario: Sample['scenario'],
  round: number,
): Promise<Sample> {
  const namespace = await shop(admin);
  const tag = scenario === 'good image' ? `2-${round}` : `2-${scenario}`;
  const watch = await completion(
    admin,
    namespace,
    await generationOf(admin, namespace),
    `${repository}:${tag}`,
  );
  const marks = new Map<string, number>();
  const jobId = randomUUID();
  const userParameters = JSON.stringify({
    namespace,
    image: `${repository}:${tag}`,
    migrate: 'never',
    timeoutSeconds: 120,
    targets: { web: ['m2-http'], consumers: [], cron: [] },
  });
  await createStandInJob(jobId, userParameters);
  const t0 = performance.now();
  const result = await runRollout(
    { id: jobId, userParameters, continuationToken: undefined },
    {
      cluster: role,
      results: new CodePipelineJobResults(new CodePipelineClient({})),
      // Never used to hand over here (one invocation per scenario); preflight checks the size with it.
      tokenKey: benchTokenKey,
      log: timedLog(marks),
      now: Date.now,
      sleep: (ms) => sleep(ms),
      remainingMs: () => 15 * 60_000,
    },
    defaultRolloutSettings,
  );
  const t1 = performance.now();
  const expected = scenario === 'good image' ? 'succeeded' : 'failed';
  if (result.outcome !== expected)
    throw new Error(`${scenario}: rollout ${result.outcome}: ${result.message}`);
  let measuredMs: number;
  if (scenario === 'good image') {
    measuredMs = t1 - (await watch.done);
  } else {
    measuredMs = (marks.get('rollout phase failed') ?? t1) - (marks.get('target patched') ?? t0);
  }
  watch.stop();
  await admin.core.deleteNamespace({ name: namespace });
  return { scenario, tool: 'rollout function', round, totalMs: t1 - t0, measuredMs };
}

async function withKubectl(admin: Admin, scenario: Sample['scenario'], round: number): Promise<Sample> {
  const namespace = await shop(admin, scenario === 'good image' ? 600 : 30);
  const tag = scenario === 'good image' ? `2-${round}` : `2-${scenario}`;
  const image = `${repository}:${tag}`;
  const watch = await completion(admin, namespace, await generationOf(admin, namespace), image);
  const t0 = performance.now();
  await kubectl([
    'set',
    'image',
    'deployment/m2-http',
    `php-fpm=${image}`,
    `nginx=${image}`,
    '-n',
    namespace,
  ]);
  const patched = performance.now();
  const code = await run('kubectl', [
    'rollout',
    'status',
    'deployment/m2-http',
    '-n',
    namespace,
    '--timeout=300s',
  ]);
  const t1 = performance.now();
  if ((code === 0) !== (scenario === 'good image')) throw new Error(`${scenario}: kubectl exited ${code}`);
  const measuredMs = scenario === 'good image' ? t1 - (await watch.done) : t1 - patched;
  watch.stop();
  await admin.core.deleteNamespace({ name: namespace });
  return { scenario, tool: 'kubectl rollout status', round, totalMs: t1 - t0, measuredMs };
}

/** Waits until the feed has been quiet for `quietMs` (the fresh shop's status updates are through). */
async function quiet(feed: RolloutChangeFeed, quietMs = 1500): Promise<number> {
  for (;;) {
    const seen = feed.version;
    await sleep(quietMs);
    if (feed.version === seen) return seen;
  }
}

/** Patch → the feed's waiter wakes with the change in its cache (the wait's own reaction time). */
async function changeFeed(
  role: ClusterClient,
  admin: Admin,
  round: number,
  rounds: number,
): Promise<Sample[]> {
  const namespace = await shop(admin);
  const feed = await RolloutChangeFeed.open(role, namespace, 'm2-http');
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const seen = await quiet(feed);
      const value = `${round}-${i}`;
      const t0 = performance.now();
      const woke = feed.next(seen).then(() => performance.now());
      await admin.apps.patchNamespacedDeployment(
        {
          namespace,
          name: 'm2-http',
          body: { metadata: { annotations: { 'bench.m2-eks-pipeline.io/touch': value } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const t1 = await woke;
      const cached = feed.deployment()?.metadata?.annotations?.['bench.m2-eks-pipeline.io/touch'];
      if (cached !== value) throw new Error(`change feed: woke without the change in its cache (${cached})`);
      samples.push({
        scenario: 'change feed',
        tool: 'RolloutChangeFeed',
        round,
        totalMs: t1 - t0,
        measuredMs: t1 - t0,
      });
    }
  } finally {
    feed.close();
    await admin.core.deleteNamespace({ name: namespace });
  }
  return samples;
}

async function main(): Promise<void> {
  Object.assign(process.env, await up());
  await kubectl(['apply', '--server-side', '--field-manager=m2-bench', '-k', join(manifests, 'platform')]);
  const admin = await connectAdmin(process.env.KUBECONFIG);
  const role = await connectCluster(
    clusterSettingsFromEnv({
      ...process.env,
      EKS_ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/m2-rollout',
    }),
  );
  const samples: Sample[] = [];
  for (const scenario of ['good image', 'pull-error', 'crashloop'] as const) {
    for (let round = 0; round < rounds; round++) {
      samples.push(await ours(role, admin, scenario, round));
      samples.push(await withKubectl(admin, scenario, round));
      console.error(`${scenario} round ${round + 1}/${rounds} done`);
    }
  }
  samples.push(...(await changeFeed(role, admin, 0, Math.max(5, rounds * 3))));
  console.error('change feed done');
  const combinations: readonly (readonly [Scenario, Tool])[] = [
    ...(['good image', 'pull-error', 'crashloop'] as const).flatMap((scenario) =>
      (['rollout function', 'kubectl rollout status'] as const).map((tool) => [scenario, tool] as const),
    ),
    ['change feed', 'RolloutChangeFeed'],
  ];
  const rows = combinations.map(([scenario, tool]) => {
    const s = samples.filter((x) => x.scenario === scenario && x.tool === tool);
    const measured = s.map((x) => x.measuredMs / 1000);
    return {
      scenario,
      tool,
      runs: s.length,
      totalS: median(s.map((x) => x.totalMs)) / 1000,
      measuredS: median(measured),
      minS: Math.min(...measured),
      maxS: Math.max(...measured),
    };
  });
  const table = [
    '| scenario | tool | runs | median invocation → verdict (s) | median overhead after the controller completed / time to detect / feed wake (s) | min – max (s) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.tool} | ${r.runs} | ${fmt(r.totalS, 2)} | ${fmt(r.measuredS, 2)} | ${fmt(r.minS, 2)} – ${fmt(r.maxS, 2)} |`,
    ),
  ].join('\n');
  console.log(table);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'rollout.md'), `${table}\n`);
  writeFileSync(join(resultsDir, 'rollout.json'), `${JSON.stringify({ rounds, samples, rows }, null, 2)}\n`);
  await writePlot(join(resultsDir, 'rollout.svg'), {
    title: 'rollout: overhead (good image) / time to detect (broken images), median s',
    width: 420,
    height: 240,
    data: { values: rows.map((r) => ({ scenario: r.scenario, tool: r.tool, seconds: r.measuredS })) },
    mark: 'bar',
    encoding: {
      x: { field: 'scenario', type: 'nominal' },
      xOffset: { field: 'tool' },
      y: { field: 'seconds', type: 'quantitative' },
      color: { field: 'tool', type: 'nominal' },
    },
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
