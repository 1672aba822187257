import { z } from 'zod';

/** The parts of a CodePipeline job the rollout uses (never the artifact credentials). */
export interface PipelineJob {
  readonly id: string;
  readonly userParameters: string | undefined;
  readonly continuationToken: string | undefined;
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
      })
      .optional(),
  }),
});

/** A CodePipeline Lambda-invoke event is malformed: there is no job id to report to. */
export class InvalidPipelineEventError extends Error {
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
  return {
    id: job.id,
    userParameters: job.data?.actionConfiguration?.configuration?.UserParameters,
    continuationToken: job.data?.continuationToken,
  };
}
