import type { ClusterClient } from '../k8s/clusterClient.ts';
import type { LeaseClaim } from '../k8s/leases.ts';
import type { Log, MetricSink } from '../observability/telemetry.ts';
import type { RolloutState } from './continuationToken.ts';
import { RolloutError } from './errors.ts';
import type { ArtifactImageReader } from './imageArtifact.ts';
import { imageRepository } from './imageRef.ts';
import type { JobResults } from './jobResults.ts';
import type { RolloutParams } from './params.ts';
import type { PipelineJob } from './pipelineJob.ts';

/** The I/O the rollout needs; the handler passes the real ones, tests may shorten the clock. */
export interface RolloutPorts {
  readonly cluster: ClusterClient;
  readonly results: JobResults;
  readonly log: Log;
  /** RolloutDuration, verdict counts and continuations; benchmarks and tests that do not count leave it out. */
  readonly metrics?: MetricSink;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Lambda time left (context.getRemainingTimeInMillis). */
  readonly remainingMs: () => number;
  /** Reads the image from the job's input artifact, when UserParameters name none. */
  readonly readArtifactImage?: ArtifactImageReader;
}

export interface RolloutSettings {
  /** Hand over to a continuation when less Lambda time than this is left. */
  readonly marginMs: number;
  /** Reply to CodePipeline at least this often (its no-reply timeout is 20 min). */
  readonly replyEveryMs: number;
  /** Re-read a waited-on Deployment this often even without a watch event (safety net). */
  readonly recheckMs: number;
  readonly leaseName: string;
  /** Lease duration; renewed on every phase and continuation. Outlives a crashed invocation only this long. */
  readonly leaseSeconds: number;
  readonly maxRestarts: number;
}

export const defaultRolloutSettings: RolloutSettings = Object.freeze({
  marginMs: 60_000,
  replyEveryMs: 14 * 60_000,
  recheckMs: 10_000,
  leaseName: 'm2-rollout',
  leaseSeconds: 900,
  maxRestarts: 2,
});

/** One invocation of the rollout: its inputs, ports and the state it advances. */
export interface RolloutRun {
  readonly job: PipelineJob;
  readonly params: RolloutParams;
  readonly ports: RolloutPorts;
  readonly settings: RolloutSettings;
  readonly claim: LeaseClaim;
  readonly invokedAt: number;
  state: RolloutState;
  /** The failure in full (the state carries it clipped to fit the continuation token). */
  failureDetail?: string;
}

export const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** Time at which this invocation must stop waiting and reply. */
export const handOverAt = (run: RolloutRun): number =>
  Math.min(
    run.ports.now() + run.ports.remainingMs() - run.settings.marginMs,
    run.invokedAt + run.settings.replyEveryMs,
  );
export const phaseDeadline = (run: RolloutRun): number =>
  run.state.phaseStartedAt + run.params.timeoutSeconds * 1000;

export function releaseImage(run: RolloutRun): { image: string; repository: string } {
  const image = run.state.image;
  if (image === undefined) throw new RolloutError('no image resolved (preflight did not run)');
  return { image, repository: imageRepository(image) };
}
