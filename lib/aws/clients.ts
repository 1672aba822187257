import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * SDK v3 clients, created once per cold start and reused across warm invocations.
 * `AWS_ENDPOINT_URL` (the embedded environment, or any S3-compatible endpoint) is honoured by
 * the SDK itself; path-style addressing is needed there because `127.0.0.1` has no bucket subdomains.
 */
let s3: S3Client | undefined;

export function s3Client(): S3Client {
  s3 ??= new S3Client({
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
    // Standard retry mode: exponential backoff with jitter for throttling, 5xx and network errors.
    maxAttempts: 4,
  });
  return s3;
}

let sqs: SQSClient | undefined;

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({
    // With an endpoint override (the embedded environment), requests must go there even for queue
    // URLs of the real sqs.<region>.amazonaws.com form, which the manifests carry; by default the
    // SDK would send them to the URL's host.
    useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
    maxAttempts: 3,
  });
  return sqs;
}

let cloudWatch: CloudWatchClient | undefined;

export function cloudWatchClient(): CloudWatchClient {
  cloudWatch ??= new CloudWatchClient({ maxAttempts: 3 });
  return cloudWatch;
}

let codePipeline: CodePipelineClient | undefined;

/** CodePipeline (job results). `AWS_ENDPOINT_URL_CODEPIPELINE` points it at the embedded stand-in. */
export function codePipelineClient(): CodePipelineClient {
  codePipeline ??= new CodePipelineClient({ maxAttempts: 4 });
  return codePipeline;
}

let secretsManager: SecretsManagerClient | undefined;

/** Secrets Manager (imageServe's URL-signing keys, the rollout's token key). */
export function secretsManagerClient(): SecretsManagerClient {
  secretsManager ??= new SecretsManagerClient({ maxAttempts: 3 });
  return secretsManager;
}

let ssm: SSMClient | undefined;

/** SSM Parameter Store (Magento's crypt key, a SecureString). */
export function ssmClient(): SSMClient {
  ssm ??= new SSMClient({ maxAttempts: 3 });
  return ssm;
}
