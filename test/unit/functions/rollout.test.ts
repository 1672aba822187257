import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { InvalidPipelineEventError } from '../../../lib/rollout/pipelineJob.ts';
import { createRolloutHandler } from '../../../lib/rollout/rolloutHandler.ts';
import { type CapturedOutput, capturedTelemetry, lambdaContext } from '../observability/capture.ts';
import { FakeClock, FakeJobResults } from '../rollout/fakes.ts';

const sampleJob = JSON.parse(
  readFileSync(new URL('../../../events/codepipeline-job.json', import.meta.url), 'utf8'),
);
const credentials: Record<string, string> = sampleJob['CodePipeline.job'].data.artifactCredentials;

/** Lines that quote any of the artifact credentials. */
const leaks = (out: CapturedOutput) =>
  out.lines.filter((line) => Object.values(credentials).some((secret) => line.includes(secret)));

function newHandler(cluster: () => Promise<ClusterClient>) {
  const { out, telemetry } = capturedTelemetry({ logEvents: true });
  const clock = new FakeClock();
  const results = new FakeJobResults();
  const handler = createRolloutHandler({ cluster, results, telemetry, now: clock.now, sleep: clock.sleep });
  return { out, clock, results, handler };
}

const unreachable = () => Promise.reject(new Error('DescribeCluster: Rate exceeded'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the rollout handler', () => {
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
      const { out, results, handler } = newHandler(unreachable);

      // Act
      const invocation = handler(event, lambdaContext('rollout', 512, 15 * 60_000));

      // Assess
      await expect(invocation).rejects.toThrow(InvalidPipelineEventError);
      await expect(invocation).rejects.toThrow(message);
      expect(results.reports).toEqual([]);
      expect(leaks(out)).toEqual([]);
    },
  );

  it('fails the invocation when the cluster cannot be reached, so Lambda retries it, with nothing reported yet', async () => {
    // Prepare
    const { out, results, handler } = newHandler(unreachable);

    // Act
    const invocation = handler(structuredClone(sampleJob), lambdaContext('rollout', 512, 15 * 60_000));

    // Assess
    await expect(invocation).rejects.toThrow('DescribeCluster: Rate exceeded');
    expect(results.reports).toEqual([]);
    expect(leaks(out)).toEqual([]);
  });
});
