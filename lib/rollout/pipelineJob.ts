import { z } from 'zod';
import { RolloutError } from './errors.ts';

/** Where an input artifact is, and the job's credentials to read it (never logged). */
export interface InputArtifact {
  readonly name: string;
  readonly bucket: string;
  readonly key: string;
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/** The parts of a CodePipeline job the rollout uses. */
export interface PipelineJob {
  readonly id: string;
  readonly userParameters: string | undefined;
  readonly continuationToken: string | undefined;
  /** The first input artifact, if the action has one. */
  readonly inputArtifact?: InputArtifact;
}

const eventSchema = z.object({
  'CodePipeline.job': z.object({
    id: z.string().min(1).max(512),
    data: z
      .object({
        actionConfiguration: z
          .object({ configuration: z.object({ UserParameters: z.string().optional() }).partial().optional() })
          .partial()
          .optional(),
        continuationToken: z.string().optional(),
        inputArtifacts: z
          .array(
            z.object({
              name: z.string(),
              location: z.object({
                s3Location: z.object({ bucketName: z.string().min(1), objectKey: z.string().min(1) }),
              }),
            }),
          )
          .optional(),
        artifactCredentials: z
          .object({
            accessKeyId: z.string().min(1),
            secretAccessKey: z.string().min(1),
            sessionToken: z.string().optional(),
          })
          .optional(),
      })
      .optional(),
  }),
});

/** A CodePipeline Lambda-invoke event is malformed: there is no job id to report to. */
export class InvalidPipelineEventError extends RolloutError {
  constructor(detail: string, options?: ErrorOptions) {
    super(`not a CodePipeline job event: ${detail}`, options);
    this.name = 'InvalidPipelineEventError';
  }
}

/**
 * Picks the job id, UserParameters and continuation token out of a `CodePipeline.job` event.
 * The error never quotes the event (it carries artifact credentials).
 */
export function parsePipelineJob(event: unknown): PipelineJob {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidPipelineEventError(`${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const job = parsed.data['CodePipeline.job'];
  const artifact = job.data?.inputArtifacts?.[0];
  const credentials = job.data?.artifactCredentials;
  return {
    id: job.id,
    userParameters: job.data?.actionConfiguration?.configuration?.UserParameters,
    continuationToken: job.data?.continuationToken,
    ...(artifact === undefined || credentials === undefined
      ? {}
      : {
          inputArtifact: {
            name: artifact.name,
            bucket: artifact.location.s3Location.bucketName,
            key: artifact.location.s3Location.objectKey,
            credentials,
          },
        }),
  };
}
