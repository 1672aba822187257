import type { ClusterClient } from '../k8s/clusterClient.ts';
import type { LeaseClaim } from '../k8s/leases.ts';
import type { Log, MetricSink } from '../observability/telemetry.ts';
import type { RolloutState, TokenBinding } from './continuationToken.ts';
import { ExternalEditError, MigrationFailedError, RolloutError, TargetFailedError } from './errors.ts';
import type { ArtifactImageReader } from './imageArtifact.ts';
import { imageRepository } from './imageRef.ts';
import type { JobResults } from './jobResults.ts';
import type { RolloutPhase } from './machine.ts';
import type { RolloutParams } from './params.ts';
import type { PipelineJob } from './pipelineJob.ts';
import type { TokenKeySource } from './tokenKey.ts';

/** The I/O the rollout needs; the handler passes the real ones, tests may shorten the clock. */
export interface RolloutPorts {
  readonly cluster: ClusterClient;
  readonly results: JobResults;
  /** The HMAC key of continuation tokens (Secrets Manager in production). */
  readonly tokenKey: TokenKeySource;
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

/** What made a rollout fail: the error's kind and, when it names them, the target, pod and reason. */
export interface RolloutFailure {
  /** The error's name: TargetFailedError, MigrationFailedError, ExternalEditError, PreflightError, ConflictError, … */
  readonly kind: string;
  readonly target?: string;
  readonly pod?: string;
  readonly reason?: string;
}

/** The failure an error stands for. */
export function failureOf(error: unknown): RolloutFailure {
  if (error instanceof TargetFailedError) {
    return {
      kind: error.name,
      target: error.target,
      reason: error.reason,
      ...(error.pod === undefined ? {} : { pod: error.pod }),
    };
  }
  if (error instanceof ExternalEditError) return { kind: error.name, target: error.target };
  if (error instanceof MigrationFailedError) return { kind: error.name, target: error.job };
  return { kind: error instanceof Error ? error.name : 'unknown' };
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
  /**
   * Repositories a release may come from (releaseInput.ts: exact, or `<prefix>/*`); undefined admits
   * any, though always only the shop's own repository.
   */
  readonly imageRepositories?: readonly string[];
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
  /** Pipeline (from GetJobDetails) and shop a continuation token of this run is bound to. */
  readonly binding: TokenBinding;
  /** The job that handed over the token this invocation resumes from; undefined for a first invocation. */
  readonly issuedBy: string | undefined;
  readonly invokedAt: number;
  state: RolloutState;
  /** Whether this invocation has sent its one reply to CodePipeline. */
  replied: boolean;
  /** When this invocation last wrote the Lease's renewal (acquired or renewed it). */
  leaseRenewedAt: number;
  /** `deployment.kubernetes.io/revision` of the Deployments this invocation saw complete, by name. */
  readonly revisions: Map<string, string>;
  /** The failure in full (the state carries it clipped to fit the continuation token). */
  failureDetail?: string;
  /** What failed first in this invocation, as data (not carried across a continuation). */
  failure?: RolloutFailure;
  /** The phase that failed first in this invocation (the report tells a preview's catch apart). */
  failedIn?: RolloutPhase;
}

export const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/**
 * Whether the Lease needs renewing now: a third of its duration after the last renewal, so it never
 * lapses while the rollout runs, without a write on every phase.
 */
export const leaseRenewalDue = (run: RolloutRun): boolean =>
  run.ports.now() - run.leaseRenewedAt >= (run.settings.leaseSeconds * 1000) / 3;

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
