import {
  type CodePipelineClient,
  GetJobDetailsCommand,
  InvalidJobStateException,
  JobNotFoundException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';

/**
 * What was reported for a job: now, or refused by CodePipeline — reported before (a retried or
 * duplicated invocation), or no longer in progress (the execution was stopped and abandoned, or timed out).
 */
export type ReportOutcome = 'reported' | 'already-reported';

/** What CodePipeline says a job is (GetJobDetails): the truth the event is checked against. */
export interface JobDetails {
  readonly pipelineName: string;
  readonly userParameters: string | undefined;
  readonly continuationToken: string | undefined;
}

/** A success (or continuation) reply. */
export interface SuccessReport {
  readonly summary: string;
  readonly outputVariables?: Readonly<Record<string, string>>;
  readonly continuationToken?: string;
  readonly percentComplete?: number;
}

/** Failure types the rollout reports (CodePipeline FailureType). */
export type FailureKind = 'JobFailed' | 'ConfigurationError';

/** The CodePipeline calls the rollout needs (GetJobDetails and the two results), as a port. */
export interface JobResults {
  /** The job as CodePipeline knows it; undefined when it knows no such job (JobNotFoundException). */
  details(jobId: string): Promise<JobDetails | undefined>;
  succeed(jobId: string, report: SuccessReport): Promise<ReportOutcome>;
  fail(jobId: string, kind: FailureKind, message: string): Promise<ReportOutcome>;
}

// CodePipeline's limits: summary 2048, failure message 5000 characters.
const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/**
 * {@link JobResults} over the SDK v3 CodePipeline client. InvalidJobStateException or JobNotFoundException
 * on a result = already reported (or no longer in progress).
 */
export class CodePipelineJobResults implements JobResults {
  readonly #client: CodePipelineClient;

  constructor(client: CodePipelineClient) {
    this.#client = client;
  }

  async details(jobId: string): Promise<JobDetails | undefined> {
    try {
      const output = await this.#client.send(new GetJobDetailsCommand({ jobId }));
      const data = output.jobDetails?.data;
      return {
        pipelineName: data?.pipelineContext?.pipelineName ?? '',
        userParameters: data?.actionConfiguration?.configuration?.UserParameters,
        continuationToken: data?.continuationToken,
      };
    } catch (error) {
      if (error instanceof JobNotFoundException) return undefined;
      throw error;
    }
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
      // Reported before, or the job ended without us (stopped and abandoned, timed out).
      if (error instanceof InvalidJobStateException || error instanceof JobNotFoundException) {
        return 'already-reported';
      }
      throw error;
    }
  }
}
