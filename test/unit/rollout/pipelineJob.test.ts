import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidPipelineEventError, parsePipelineJob } from '../../../lib/rollout/pipelineJob.ts';

const sample = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', 'events', 'codepipeline-job.json'), 'utf8'),
) as unknown;

describe('parsePipelineJob', () => {
  it('reads id and UserParameters from the sample event', () => {
    const job = parsePipelineJob(sample);
    expect(job.id).toBe('11111111-abcd-1111-abcd-111111111111');
    expect(JSON.parse(job.userParameters ?? '')).toMatchObject({ namespace: 'example-shop' });
    expect(job.continuationToken).toBeUndefined();
  });

  it('never quotes the event (credentials) in its error', () => {
    expect.assertions(2);
    try {
      parsePipelineJob({
        'CodePipeline.job': { data: { artifactCredentials: { secretAccessKey: 'SECRET' } } },
      });
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidPipelineEventError);
      expect((error as Error).message).not.toContain('SECRET');
    }
  });
});
