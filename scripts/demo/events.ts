import { randomUUID } from 'node:crypto';

/** One uploaded original, as S3 describes it in its notification. */
export interface UploadedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  /** Orders events for the same key; S3 makes it a hex string that grows with each write. */
  readonly sequencer: string;
}

/** S3 event keys are URL form-encoded: spaces become `+` (the handler decodes them back). */
const eventKey = (key: string): string =>
  encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+');

/**
 * The S3 ObjectCreated:Put notification S3 would send to imageVariants for one upload (same shape as
 * events/s3-object-created.json). moto stores the object but cannot invoke a Lambda function, so the
 * demo plays S3's part and delivers this event itself.
 */
export function s3ObjectCreatedEvent(object: UploadedObject, region: string, at = new Date()) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: at.toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AROAEXAMPLE:m2-demo' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': 'm2-demo' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'image-variants',
          bucket: {
            name: object.bucket,
            ownerIdentity: { principalId: 'EXAMPLE' },
            arn: `arn:aws:s3:::${object.bucket}`,
          },
          object: {
            key: eventKey(object.key),
            size: object.size,
            eTag: object.etag.replaceAll('"', ''),
            sequencer: object.sequencer,
          },
        },
      },
    ],
  };
}

/** A sequencer for the n-th upload of this run: fixed-width hex of the time, so later is larger. */
export const sequencerAt = (ms: number, n: number): string =>
  (BigInt(ms) * 1000n + BigInt(n)).toString(16).toUpperCase().padStart(18, '0');

/**
 * The event CodePipeline's Lambda invoke action sends (same shape as events/codepipeline-job.json).
 * A continuation is a new job of the same action carrying the previous job's continuation token.
 * The job id is also the release id: a new id per run, so a re-run is a new release, not a duplicate.
 */
export function codePipelineJobEvent(jobId: string, userParameters: object, continuationToken?: string) {
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: '123456789012',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'm2-eks-pipeline-demo-rollout',
            UserParameters: JSON.stringify(userParameters),
          },
        },
        inputArtifacts: [],
        outputArtifacts: [],
        // Real jobs carry temporary artifact credentials; the rollout never logs the event.
        artifactCredentials: {
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          sessionToken: 'm2-demo',
        },
        ...(continuationToken === undefined ? {} : { continuationToken }),
      },
    },
  };
}
