import type { Log } from '../../../lib/observability/telemetry.ts';
import type {
  FailureKind,
  JobDetails,
  JobResults,
  ReportOutcome,
  SuccessReport,
} from '../../../lib/rollout/jobResults.ts';
import type { TokenKeySource } from '../../../lib/rollout/tokenKey.ts';

/** What CodePipeline was told; like the real service (and the stand-in), a second report per job is refused. */
export type Report =
  | { readonly jobId: string; readonly operation: 'success'; readonly report: SuccessReport }
  | {
      readonly jobId: string;
      readonly operation: 'failure';
      readonly kind: FailureKind;
      readonly message: string;
    };

/** The pipeline every fake job belongs to unless a test says otherwise. */
export const pipelineName = 'shop-a-release';

/**
 * CodePipeline's side: the jobs it created (GetJobDetails answers for those only), what it was told,
 * and jobs it stopped waiting for (Stop and abandon: every later result is refused).
 */
export class FakeJobResults implements JobResults {
  readonly reports: Report[] = [];
  readonly #jobs = new Map<string, JobDetails>();
  readonly #abandoned = new Set<string>();

  /** CodePipeline creates a job (a first invocation, or a continuation carrying `continuationToken`). */
  createJob(jobId: string, job: Partial<JobDetails> & { readonly userParameters: string }): void {
    this.#jobs.set(jobId, { pipelineName, continuationToken: undefined, ...job });
  }

  /** Stop and abandon: the job is no longer in progress. */
  abandon(jobId: string): void {
    this.#abandoned.add(jobId);
  }

  async details(jobId: string): Promise<JobDetails | undefined> {
    return this.#jobs.get(jobId);
  }

  async succeed(jobId: string, report: SuccessReport): Promise<ReportOutcome> {
    return this.#record({ jobId, operation: 'success', report });
  }

  async fail(jobId: string, kind: FailureKind, message: string): Promise<ReportOutcome> {
    return this.#record({ jobId, operation: 'failure', kind, message });
  }

  #record(report: Report): ReportOutcome {
    if (this.#abandoned.has(report.jobId)) return 'already-reported';
    if (this.reports.some((r) => r.jobId === report.jobId)) return 'already-reported';
    this.reports.push(report);
    return 'reported';
  }
}

export const quietLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A fixed token key (what Secrets Manager would hold), 32 bytes. */
export const tokenKeyOf = (text = 'k'.repeat(32)): TokenKeySource => ({
  tokenKey: async () => Buffer.from(text, 'utf8'),
});
