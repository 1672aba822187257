import { setTimeout as sleep } from 'node:timers/promises';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { type Telemetry, telemetryPorts } from '../observability/telemetry.ts';
import { telemetryMiddlewares } from '../observability/telemetryMiddlewares.ts';
import { defaultRolloutSettings, type RolloutResult, type RolloutSettings, runRollout } from './executor.ts';
import type { ArtifactImageReader } from './imageArtifact.ts';
import type { JobResults } from './jobResults.ts';
import { parsePipelineJob } from './pipelineJob.ts';
import type { TokenKeySource } from './tokenKey.ts';

export interface RolloutHandlerDeps {
  /** The cluster of this Lambda container, connected on first use (`sharedClusterClient`). */
  readonly cluster: () => Promise<ClusterClient>;
  readonly results: JobResults;
  /** The HMAC key of continuation tokens. */
  readonly tokenKey: TokenKeySource;
  /** Reads the image from the job's input artifact, when UserParameters name none. */
  readonly readArtifactImage?: ArtifactImageReader;
  readonly telemetry: Telemetry;
  readonly settings?: RolloutSettings;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What an invocation returns (the verdict itself goes to CodePipeline). */
export interface RolloutReport {
  readonly jobId: string;
  readonly outcome: RolloutResult['outcome'];
  readonly reported: RolloutResult['reported'];
}

/**
 * The rollout Lambda handler: CodePipeline Lambda invoke action → one step of a shop rollout (see
 * lib/rollout/executor.ts). The result always goes to CodePipeline (success, failure or
 * continuation) once the job is parsed; an event without a job, or a cluster that cannot be reached,
 * makes the invocation fail so Lambda retries it. The event is never logged: it carries the artifact
 * credentials.
 *
 * @example export const handler = createRolloutHandler({ cluster: sharedClusterClient, results, telemetry: lambdaTelemetry })
 */
export function createRolloutHandler(deps: RolloutHandlerDeps) {
  const ports = telemetryPorts(deps.telemetry);
  return middy(async (event: unknown, context: Context): Promise<RolloutReport> => {
    const job = parsePipelineJob(event);
    const result = await runRollout(
      job,
      {
        ...ports,
        cluster: await deps.cluster(),
        results: deps.results,
        tokenKey: deps.tokenKey,
        now: deps.now ?? Date.now,
        sleep: deps.sleep ?? sleep,
        remainingMs: () => context.getRemainingTimeInMillis(),
        readArtifactImage: deps.readArtifactImage,
      },
      deps.settings ?? defaultRolloutSettings,
    );
    return { jobId: job.id, outcome: result.outcome, reported: result.reported };
  }).use(telemetryMiddlewares(deps.telemetry));
}
