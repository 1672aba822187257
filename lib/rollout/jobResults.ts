import {
  type CodePipelineClient,
  InvalidJobStateException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';

/** What was reported for a job: now, or already before (a retried or duplicated invocation). */
export type ReportOutcome = 'reported' | 'already-reported';

/** A success (or continuation) reply. */
export interface SuccessReport {
  readonly summary: string;
  readonly outputVariables?: Readonly<Record<string, string>>;
  readonly continuationToken?: string;
  readonly percentComplete?: number;
}

/** Failure types the rollout reports (CodePipeline FailureType). */
export type FailureKind = 'JobFailed' | 'ConfigurationError';

/** The two CodePipeline calls the rollout needs, as a port. */
export interface JobResults {
  succeed(jobId: string, report: SuccessReport): Promise<ReportOutcome>;
  fail(jobId: string, kind: FailureKind, message: string): Promise<ReportOutcome>;
}

// CodePipeline's limits: summary 2048, failure message 5000 characters.
const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** {@link JobResults} over the SDK v3 CodePipeline client. InvalidJobStateException = already reported. */
export class CodePipelineJobResults implements JobResults {
  readonly #client: CodePipelineClient;

  constructor(client: CodePipelineClient) {
    this.#client = client;
  }

  async succeed(jobId: string, report: SuccessReport): Promise<ReportOutcome> {
    return this.#send(() =>
      this.#client.send(
        new PutJobSuccessResultCommand({
          jobId,
          executionDetails: {
            summary: clip(report.summary, 2048),
            ...(report.percentComplete === undefined ? {} : { percentComplete: report.percentComplete }),
          },
          ...(report.continuationToken === undefined ? {} : { continuationToken: report.continuationToken }),
          ...(report.outputVariables === undefined ? {} : { outputVariables: { ...report.outputVariables } }),
        }),
      ),
    );
  }

  async fail(jobId: string, kind: FailureKind, message: string): Promise<ReportOutcome> {
    return this.#send(() =>
      this.#client.send(
        new PutJobFailureResultCommand({
          jobId,
          failureDetails: { type: kind, message: clip(message, 5000) },
        }),
      ),
    );
  }

  async #send(call: () => Promise<unknown>): Promise<ReportOutcome> {
    try {
      await call();
      return 'reported';
    } catch (error) {
      if (error instanceof InvalidJobStateException) return 'already-reported';
      throw error;
    }
  }
}
