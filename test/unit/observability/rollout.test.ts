import { readFileSync } from 'node:fs';
import { CodePipelineClient, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { powertoolsLog, powertoolsMetricSink } from '../../../lib/observability/telemetry.ts';
import { defaultRolloutSettings, type RolloutPorts, runRollout } from '../../../lib/rollout/executor.ts';
import { FakeClock } from '../../helpers/fakeCluster/clock.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { FakeJobResults } from '../rollout/fakes.ts';
import { type CapturedOutput, captureOutput, lambdaContext, powertools } from './capture.ts';

const names = metricNames.rollout;
const namespace = 'shop-a';
const service = 'm2-eks-pipeline';

// The handler's cluster connection; the CodePipeline client is mocked below at the SDK level.
const cluster = vi.hoisted(() => ({ client: undefined as unknown }));
vi.mock('../../../lib/k8s/connection.ts', () => ({ sharedClusterClient: async () => cluster.client }));

function newShop(options: { neverReady?: string[]; latencyMs?: number } = {}) {
  const clock = new FakeClock();
  const fake = new FakeCluster({ clock, latencyMs: options.latencyMs ?? 0 });
  for (const name of options.neverReady ?? []) {
    fake.setImageBehaviour('registry.example/magento:2.4.8', { run: 'never-ready' }, name);
  }
  fake.addDeployment(namespace, 'm2-http', { image: 'registry.example/magento:2.4.7' });
  fake.addDeployment(namespace, 'm2-consumer-export', {
    image: 'registry.example/magento:2.4.7',
    labels: { 'app.kubernetes.io/component': 'consumer' },
  });
  fake.addCronJob(namespace, 'm2-cron', 'registry.example/magento:2.4.7');
  return { clock, cluster: fake, results: new FakeJobResults() };
}

type Shop = ReturnType<typeof newShop>;

function invoke(
  shop: Shop,
  telemetry: Pick<RolloutPorts, 'log' | 'metrics'>,
  job: { id: string; params?: string; continuationToken?: string },
  remainingMs: () => number = () => 15 * 60_000,
) {
  return runRollout(
    {
      id: job.id,
      userParameters: job.params ?? JSON.stringify({ namespace, imageTag: '2.4.8', migrate: 'never' }),
      continuationToken: job.continuationToken,
    },
    {
      cluster: shop.cluster,
      results: shop.results,
      now: shop.clock.now,
      sleep: shop.clock.sleep,
      remainingMs,
      ...telemetry,
    },
    defaultRolloutSettings,
  );
}

function telemetry() {
  const out = captureOutput();
  const { logger, metrics } = powertools();
  return { out, metrics, ports: { log: powertoolsLog(logger), metrics: powertoolsMetricSink(metrics) } };
}

/** The rollout metrics, as [name, unit, value, dimensions without `service`]. */
const rolloutMetrics = (out: CapturedOutput) =>
  out
    .metrics()
    .filter((m) => (Object.values(names) as string[]).includes(m.name))
    .map((m) => {
      expect(m.dimensions.service).toBe(service);
      const { service: _, ...dimensions } = m.dimensions;
      return [m.name, m.unit, m.value, dimensions];
    });

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('rollout telemetry through Powertools', () => {
  it('counts a success and its duration from the release start, with job, shop and release on every line', async () => {
    // Prepare
    const { out, metrics, ports } = telemetry();
    const shop = newShop({ latencyMs: 250 });
    const start = shop.clock.now();

    // Act
    const result = await invoke(shop, ports, { id: 'Release-1' });
    metrics.publishStoredMetrics();

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(rolloutMetrics(out)).toEqual([
      [names.duration, 'Milliseconds', shop.clock.now() - start, { outcome: 'succeeded' }],
      [names.succeeded, 'Count', 1, {}],
    ]);
    const lines = out.logRecords();
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(line).toEqual(expect.objectContaining({ jobId: 'Release-1', namespace, release: 'release-1' }));
    }
  });

  it('counts a rollback and its duration under outcome rolled-back', async () => {
    // Prepare
    const { out, metrics, ports } = telemetry();
    const shop = newShop({ neverReady: ['m2-consumer-export'] });

    // Act
    const result = await invoke(shop, ports, { id: 'release-2' });
    metrics.publishStoredMetrics();

    // Assess
    expect(result.outcome).toBe('failed');
    expect(rolloutMetrics(out)).toEqual([
      [names.duration, 'Milliseconds', expect.any(Number), { outcome: 'rolled-back' }],
      [names.rolledBack, 'Count', 1, {}],
    ]);
  });

  it('counts invalid parameters as a failure, the job named on the line before the shop is known', async () => {
    // Prepare
    const { out, metrics, ports } = telemetry();
    const shop = newShop();

    // Act
    const result = await invoke(shop, ports, { id: 'release-3', params: '{"imageTag":"2.4.8"}' });
    metrics.publishStoredMetrics();

    // Assess
    expect(result.outcome).toBe('configuration-error');
    expect(rolloutMetrics(out)).toEqual([
      [names.duration, 'Milliseconds', 0, { outcome: 'failed' }],
      [names.failed, 'Count', 1, {}],
    ]);
    expect(out.logRecords()).toEqual([
      expect.objectContaining({ message: 'invalid UserParameters', jobId: 'release-3' }),
    ]);
  });

  it('counts a continuation, and measures the verdict from the first invocation’s start', async () => {
    // Prepare: every API call takes 1 s; the first invocation has 75 s, 60 of them the margin.
    const { out, metrics, ports } = telemetry();
    const shop = newShop({ latencyMs: 1000 });
    const start = shop.clock.now();
    const first = await invoke(shop, ports, { id: 'release-4' }, () => 75_000 - (shop.clock.now() - start));
    metrics.publishStoredMetrics();
    const afterFirst = rolloutMetrics(out);
    const report = shop.results.reports[0];
    const token = report?.operation === 'success' ? report.report.continuationToken : undefined;
    shop.clock.advance(30_000);

    // Act
    const second = await invoke(shop, ports, { id: 'continuation-of-4', continuationToken: token ?? '' });
    metrics.publishStoredMetrics();

    // Assess
    expect([first.outcome, second.outcome]).toEqual(['continued', 'succeeded']);
    expect(afterFirst).toEqual([[names.continuations, 'Count', 1, {}]]);
    expect(rolloutMetrics(out).slice(1)).toEqual([
      [names.duration, 'Milliseconds', shop.clock.now() - start, { outcome: 'succeeded' }],
      [names.succeeded, 'Count', 1, {}],
    ]);
    expect(out.logRecords().filter((r) => r.jobId === 'continuation-of-4').length).toBeGreaterThan(0);
    expect(out.logRecords().every((r) => r.release === 'release-4')).toBe(true);
  });
});

describe('the rollout handler', () => {
  const event = JSON.parse(
    readFileSync(new URL('../../../events/codepipeline-job.json', import.meta.url), 'utf8'),
  );
  const credentials: Record<string, string> = event['CodePipeline.job'].data.artifactCredentials;
  const context = lambdaContext('rollout', 512, 15 * 60_000);
  /** Lines that quote any of the artifact credentials. */
  const leaks = (out: CapturedOutput) =>
    out.lines.filter((line) => Object.values(credentials).some((secret) => line.includes(secret)));

  async function invokeHandler(badParameters: boolean) {
    // Every way Powertools could be told to print the event is switched on.
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('POWERTOOLS_DEV', undefined);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.resetModules();
    const out = captureOutput();
    const codePipeline = mockClient(CodePipelineClient);
    codePipeline.on(PutJobFailureResultCommand).resolves({});
    cluster.client = newShop().cluster;
    const { handler } = await import('../../../functions/rollout.ts');
    const job = structuredClone(event);
    // Without a namespace the job fails on its parameters before any cluster call.
    if (badParameters) job['CodePipeline.job'].data.actionConfiguration.configuration.UserParameters = '{}';
    const result = await handler(job, context);
    codePipeline.restore();
    return { out, result, logger: (await import('../../../lib/observability/telemetry.ts')).logger };
  }

  it('never prints the artifact credentials, and flushes the verdict metric', async () => {
    const { out, result } = await invokeHandler(true);

    expect(result).toEqual(expect.objectContaining({ outcome: 'configuration-error' }));
    expect(out.logRecords().length).toBeGreaterThan(0);
    expect(leaks(out)).toEqual([]);
    expect(out.metrics()).toContainEqual(
      expect.objectContaining({ name: names.failed, unit: 'Count', value: 1, dimensions: { service } }),
    );
  });

  it('would see the credentials if the event were logged — the check above can fail', async () => {
    const { out, logger } = await invokeHandler(true);

    logger.info('the whole event', { event });

    expect(leaks(out).filter((line) => line.includes('the whole event'))).toHaveLength(1);
  });
});
