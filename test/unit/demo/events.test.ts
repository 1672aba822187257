import { describe, expect, it } from 'vitest';
import { parseS3Records, s3EventSchema } from '../../../lib/images/s3Events.ts';
import { parsePipelineJob } from '../../../lib/rollout/pipelineJob.ts';
import { codePipelineJobEvent, s3ObjectCreatedEvent, sequencerAt } from '../../../scripts/demo/events.ts';

describe('s3ObjectCreatedEvent', () => {
  it('is an S3 notification imageVariants accepts, with the key, size, ETag and sequencer of the upload', () => {
    // Prepare
    const upload = {
      bucket: 'm2-media-local',
      key: 'catalog/product/a/q/aqua leaf+1.jpg',
      size: 4321,
      etag: '"0123456789abcdef0123456789abcdef"',
      sequencer: sequencerAt(1_700_000_000_000, 3),
    };

    // Act
    const event = s3ObjectCreatedEvent(upload, 'us-east-1', new Date('2026-11-28T09:00:00Z'));

    // Assess
    const envelope = s3EventSchema.parse(event);
    const [record] = parseS3Records(envelope.Records);
    expect(record).toMatchObject({
      ok: true,
      event: {
        action: 'created',
        bucket: 'm2-media-local',
        key: 'catalog/product/a/q/aqua leaf+1.jpg',
        size: 4321,
        sequencer: upload.sequencer,
      },
    });
    expect(event.Records[0]?.s3.object.eTag).toBe('0123456789abcdef0123456789abcdef');
    expect(event.Records[0]?.eventTime).toBe('2026-11-28T09:00:00.000Z');
  });

  it('makes later uploads carry larger sequencers of the same width', () => {
    // Act
    const sequencers = [
      sequencerAt(1_700_000_000_000, 0),
      sequencerAt(1_700_000_000_000, 1),
      sequencerAt(1_700_000_000_001, 0),
    ];

    // Assess
    expect(new Set(sequencers.map((s) => s.length)).size).toBe(1);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(sequencers[0]).toMatch(/^[0-9A-F]+$/);
  });
});

describe('codePipelineJobEvent', () => {
  it('is a job the rollout parses: id and UserParameters, no continuation', () => {
    // Act
    const job = parsePipelineJob(
      codePipelineJobEvent('job-1', { namespace: 'example-shop', imageTag: '2.4.8' }),
    );

    // Assess
    expect(job.id).toBe('job-1');
    expect(JSON.parse(job.userParameters ?? '')).toEqual({ namespace: 'example-shop', imageTag: '2.4.8' });
    expect(job.continuationToken).toBeUndefined();
    expect(job.inputArtifact).toBeUndefined();
  });

  it('carries the previous job’s continuation token on a continuation job', () => {
    // Act
    const job = parsePipelineJob(codePipelineJobEvent('job-2', { namespace: 'example-shop' }, 'token-abc'));

    // Assess
    expect(job.continuationToken).toBe('token-abc');
  });
});
