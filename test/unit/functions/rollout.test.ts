import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { InvalidPipelineEventError } from '../../../lib/rollout/pipelineJob.ts';
import { createRolloutHandler } from '../../../lib/rollout/rolloutHandler.ts';
import { type CapturedOutput, capturedTelemetry, lambdaContext } from '../observability/capture.ts';
import { FakeJobResults, tokenKeyOf } from '../rollout/fakes.ts';
import { allImages, failureOf, lastToken, namespace, newImage, newShop, type Shop } from '../rollout/shop.ts';

const names = metricNames.rollout;
const service = 'm2-eks-pipeline';
const sampleJob = JSON.parse(
  readFileSync(new URL('../../../events/codepipeline-job.json', import.meta.url), 'utf8'),
);
const credentials: Record<string, string> = sampleJob['CodePipeline.job'].data.artifactCredentials;

/** The sample CodePipeline event (credentials included) for job `id`, with these UserParameters. */
function jobEvent(id: string, params: object | string, continuationToken?: string): unknown {
  const event = structuredClone(sampleJob);
  const job = event['CodePipeline.job'];
  job.id = id;
  job.data.actionConfiguration.configuration.UserParameters =
    typeof params === 'string' ? params : JSON.stringify(params);
  if (continuationToken !== undefined) job.data.continuationToken = continuationToken;
  return event;
}
const release = { namespace, imageTag: '2.4.8', migrate: 'never' };

/** Lines that quote any of the artifact credentials. */
const leaks = (out: CapturedOutput) =>
  out.lines.filter((line) => Object.values(credentials).some((secret) => line.includes(secret)));

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

/** The handler over a shop on the fake cluster (or any cluster connection), on the shop's clock. */
function newHandler(shop: Shop, cluster: () => Promise<ClusterClient> = async () => shop.cluster) {
  const { out, telemetry } = capturedTelemetry({ logEvents: true });
  const { clock } = shop.cluster;
  const rollout = createRolloutHandler({
    cluster,
    results: shop.results,
    tokenKey: tokenKeyOf(),
    telemetry,
    now: clock.now,
    sleep: clock.sleep,
  });
  /** CodePipeline created the event's job (GetJobDetails knows it), then invoked the function. */
  const handler = (event: unknown, context: Context) => {
    const job = (
      event as { 'CodePipeline.job'?: { id?: string; data?: Record<string, unknown> } } | undefined
    )?.['CodePipeline.job'];
    if (job?.id !== undefined && job.data !== undefined) {
      const data = job.data as {
        actionConfiguration: { configuration: { UserParameters: string } };
        continuationToken?: string;
      };
      shop.results.createJob(job.id, {
        userParameters: data.actionConfiguration.configuration.UserParameters,
        continuationToken: data.continuationToken,
      });
    }
    return rollout(event, context);
  };
  /** A Lambda context with `ms` left from now on the shop's clock. */
  const contextWith = (ms = 15 * 60_000) => {
    const start = clock.now();
    return lambdaContext('rollout', 512, () => ms - (clock.now() - start));
  };
  return { out, handler, contextWith };
}

/** A CodePipeline that throttles every failure report. */
class ThrottledPipeline extends FakeJobResults {
  override async fail(): Promise<never> {
    throw new Error('CodePipeline: ThrottlingException');
  }
}

const unreachable = () => Promise.reject(new Error('DescribeCluster: Rate exceeded'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the rollout handler', () => {
  it('rolls the shop out to the new image and reports the success to CodePipeline', async () => {
    // Prepare
    const shop = newShop();
    const { handler, contextWith } = newHandler(shop);

    // Act
    const report = await handler(jobEvent('Release-1', release), contextWith());

    // Assess
    expect(report).toEqual({ jobId: 'Release-1', outcome: 'succeeded', reported: 'reported' });
    expect(allImages(shop)).toEqual({
      web: [newImage, newImage],
      consumers: [
        [newImage, newImage],
        [newImage, newImage],
      ],
      cron: [newImage],
    });
    expect(shop.results.reports).toEqual([
      expect.objectContaining({ jobId: 'Release-1', operation: 'success' }),
    ]);
  });

  it('flushes the success and its duration, with job, shop and release on every line and no credentials', async () => {
    // Prepare
    const shop = newShop({ latencyMs: 250 });
    const { out, handler, contextWith } = newHandler(shop);
    const start = shop.cluster.clock.now();

    // Act
    await handler(jobEvent('Release-1', release), contextWith());

    // Assess
    expect(rolloutMetrics(out)).toEqual([
      [names.duration, 'Milliseconds', shop.cluster.clock.now() - start, { outcome: 'succeeded' }],
      [names.succeeded, 'Count', 1, {}],
    ]);
    const lines = out.logRecords().filter((r) => r.level !== 'DEBUG');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(line).toEqual(expect.objectContaining({ jobId: 'Release-1', namespace, release: 'release-1' }));
    }
    expect(leaks(out)).toEqual([]);
  });

  it('rolls back a release whose consumer never gets Ready, counted under outcome rolled-back', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-consumer-export');
    const { out, handler, contextWith } = newHandler(shop);

    // Act
    const report = await handler(jobEvent('release-2', release), contextWith());

    // Assess
    expect(report.outcome).toBe('failed');
    expect(failureOf(shop, 'release-2')).toContain('m2-consumer-export');
    expect(rolloutMetrics(out)).toEqual([
      [names.duration, 'Milliseconds', expect.any(Number), { outcome: 'rolled-back' }],
      [names.rolledBack, 'Count', 1, {}],
    ]);
  });

  it('hands over with a continuation when time runs out, and measures the verdict from the first start', async () => {
    // Prepare: every API call takes 1 s; the first invocation has 75 s, 60 of them the margin.
    const shop = newShop({ latencyMs: 1000 });
    const { out, handler, contextWith } = newHandler(shop);
    const start = shop.cluster.clock.now();
    const first = await handler(jobEvent('release-4', release), contextWith(75_000));
    const afterFirst = rolloutMetrics(out);
    shop.cluster.clock.advance(30_000);

    // Act
    const second = await handler(
      jobEvent('continuation-of-4', release, lastToken(shop)?.raw ?? ''),
      contextWith(),
    );

    // Assess
    expect([first.outcome, second.outcome]).toEqual(['continued', 'succeeded']);
    expect(afterFirst).toEqual([[names.continuations, 'Count', 1, {}]]);
    expect(rolloutMetrics(out).slice(1)).toEqual([
      [names.duration, 'Milliseconds', shop.cluster.clock.now() - start, { outcome: 'succeeded' }],
      [names.succeeded, 'Count', 1, {}],
    ]);
    const lines = out.logRecords().filter((r) => r.level !== 'DEBUG');
    expect(lines.filter((r) => r.jobId === 'continuation-of-4').length).toBeGreaterThan(0);
    expect(lines.every((r) => r.release === 'release-4')).toBe(true);
  });

  it('reports invalid UserParameters to CodePipeline as a configuration error, naming the job', async () => {
    // Prepare
    const shop = newShop();
    const { out, handler, contextWith } = newHandler(shop);

    // Act
    const report = await handler(jobEvent('release-3', '{"imageTag":"2.4.8"}'), contextWith());

    // Assess
    expect(report).toEqual({ jobId: 'release-3', outcome: 'configuration-error', reported: 'reported' });
    expect(shop.results.reports).toEqual([
      expect.objectContaining({ jobId: 'release-3', operation: 'failure', kind: 'ConfigurationError' }),
    ]);
    expect(rolloutMetrics(out)).toEqual([
      [names.duration, 'Milliseconds', 0, { outcome: 'failed' }],
      [names.failed, 'Count', 1, {}],
    ]);
    expect(out.logRecords().filter((r) => r.level !== 'DEBUG')).toEqual([
      expect.objectContaining({ message: 'invalid UserParameters', jobId: 'release-3' }),
    ]);
    expect(leaks(out)).toEqual([]);
  });

  it.each([
    ['an S3 notification', { Records: [] }, /CodePipeline\.job/],
    [
      'a job without an id',
      { 'CodePipeline.job': { data: sampleJob['CodePipeline.job'].data } },
      /CodePipeline\.job\.id/,
    ],
    ['no event at all', undefined, /^not a CodePipeline job event/],
  ])(
    'fails the invocation for %s, reporting nothing and quoting no credentials',
    async (_, event, message) => {
      // Prepare
      const shop = newShop();
      const { out, handler, contextWith } = newHandler(shop, unreachable);

      // Act
      const invocation = handler(event, contextWith());

      // Assess
      await expect(invocation).rejects.toThrow(InvalidPipelineEventError);
      await expect(invocation).rejects.toThrow(message);
      expect(shop.results.reports).toEqual([]);
      expect(leaks(out)).toEqual([]);
    },
  );

  it('fails the invocation when the cluster cannot be reached, so Lambda retries it, with nothing reported yet', async () => {
    // Prepare
    const shop = newShop();
    const { out, handler, contextWith } = newHandler(shop, unreachable);

    // Act
    const invocation = handler(jobEvent('release-5', release), contextWith());

    // Assess
    await expect(invocation).rejects.toThrow('DescribeCluster: Rate exceeded');
    expect(shop.results.reports).toEqual([]);
    expect(leaks(out)).toEqual([]);
  });

  it('fails the invocation when CodePipeline cannot be told the verdict', async () => {
    // Prepare
    const shop = { cluster: newShop().cluster, results: new ThrottledPipeline() };
    const { handler, contextWith } = newHandler(shop);

    // Act
    const invocation = handler(jobEvent('release-6', '{}'), contextWith());

    // Assess
    await expect(invocation).rejects.toThrow('CodePipeline: ThrottlingException');
  });

  it('would see the credentials if the event were logged — the leak checks above can fail', async () => {
    // Prepare
    const { out, telemetry } = capturedTelemetry();

    // Act
    telemetry.logger.info('the whole event', { event: sampleJob });

    // Assess
    expect(leaks(out)).toHaveLength(1);
  });
});
