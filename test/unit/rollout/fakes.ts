import type { Log } from '../../../lib/observability/telemetry.ts';
import type {
  FailureKind,
  JobResults,
  ReportOutcome,
  SuccessReport,
} from '../../../lib/rollout/jobResults.ts';

/** What CodePipeline was told; like the real service (and the stand-in), a second report per job is refused. */
export type Report =
  | { readonly jobId: string; readonly operation: 'success'; readonly report: SuccessReport }
  | {
      readonly jobId: string;
      readonly operation: 'failure';
      readonly kind: FailureKind;
      readonly message: string;
    };

export class FakeJobResults implements JobResults {
  readonly reports: Report[] = [];

  async succeed(jobId: string, report: SuccessReport): Promise<ReportOutcome> {
    return this.#record({ jobId, operation: 'success', report });
  }

  async fail(jobId: string, kind: FailureKind, message: string): Promise<ReportOutcome> {
    return this.#record({ jobId, operation: 'failure', kind, message });
  }

  #record(report: Report): ReportOutcome {
    if (this.reports.some((r) => r.jobId === report.jobId)) return 'already-reported';
    this.reports.push(report);
    return 'reported';
  }
}

export const quietLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
