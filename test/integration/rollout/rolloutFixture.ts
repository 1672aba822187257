import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { V1CronJob, V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import type { Log } from '../../../lib/observability/telemetry.ts';
import { defaultRolloutSettings, type RolloutResult, runRollout } from '../../../lib/rollout/executor.ts';
import { s3ArtifactImageReader } from '../../../lib/rollout/imageArtifact.ts';
import { CodePipelineJobResults } from '../../../lib/rollout/jobResults.ts';
import type { InputArtifact } from '../../../lib/rollout/pipelineJob.ts';
import { smokeAnnotations } from '../../../lib/rollout/smokeChecks.ts';
import { createSecretsManagerTokenKey, type TokenKeySource } from '../../../lib/rollout/tokenKey.ts';
import { eventually } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { manifestsDir } from '../../helpers/manifests.ts';
import { ensureWorkerPool, kubectl, kubectlJson, renderShopInto } from '../manifests/cluster.ts';

/** The image the example overlay pins, and its repository. */
export const repository = '123456789012.dkr.ecr.us-east-1.amazonaws.com/magento';
export const initialImage = `${repository}:2.4.7-p3`;

const quietLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A unique shop namespace name for one test. */
export const shopNamespace = (): string => `m2-rollout-${randomBytes(3).toString('hex')}`;

/**
 * Applies the platform RBAC and the example-shop overlay into `namespace` as the admin, with
 * m2-http's minReadySeconds shortened to 1 s (the rollout logic is the same; tests finish sooner),
 * and waits until every Deployment is Available and m2-http has 3 replicas (the HPA's minimum).
 */
export async function applyShop(namespace: string, blueGreen = '1'): Promise<void> {
  ensureWorkerPool();
  kubectl([
    'apply',
    '--server-side',
    // The platform is cluster-wide and every suite applies it: the newest manifests win.
    '--force-conflicts',
    '--field-manager=m2-rollout-test',
    '-k',
    join(manifestsDir, 'platform'),
  ]);
  const docs = parseAllDocuments(renderShopInto('overlays/example-shop', namespace)).map(
    (d) => d.toJS() as V1Deployment & V1CronJob & { kind: string },
  );
  for (const doc of docs) {
    if (doc.kind === 'Deployment' && doc.metadata?.name === 'm2-http' && doc.spec !== undefined) {
      doc.spec.minReadySeconds = 1;
      // KWOK's pods serve nothing: the smoke checks are tested on real nodes (nodes/smokeChecks.test.ts).
      doc.metadata.annotations = { ...doc.metadata.annotations, [smokeAnnotations.checks]: '[]' };
    }
    if (doc.kind === 'CronJob' && doc.metadata?.name === 'm2-migrate' && doc.metadata.annotations) {
      doc.metadata.annotations['m2-eks-pipeline.io/blue-green-enabled'] = blueGreen;
    }
  }
  kubectl(['apply', '--server-side', '--field-manager=m2-rollout-test', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }),
  });
  await eventually(
    'every Deployment of the shop Available, m2-http at 3',
    async () => {
      const list = kubectlJson<{ items: V1Deployment[] }>(['get', 'deployments', '-n', namespace]);
      const web = list.items.find((d) => d.metadata?.name === 'm2-http');
      const ready = list.items.every(
        (d) =>
          (d.status?.updatedReplicas ?? 0) === (d.spec?.replicas ?? 1) &&
          (d.status?.availableReplicas ?? 0) === (d.spec?.replicas ?? 1),
      );
      return ready && (web?.status?.availableReplicas ?? 0) >= 3 ? true : undefined;
    },
    90_000,
  );
}

export function deleteShop(namespace: string): void {
  kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
}

/** The CodePipeline stand-in of the embedded environment, through the SDK. */
function jobResults(): CodePipelineJobResults {
  const env = embeddedEnv();
  return new CodePipelineJobResults(
    new CodePipelineClient({ endpoint: env.AWS_ENDPOINT_URL_CODEPIPELINE, region: env.AWS_REGION }),
  );
}

/** What the stand-in recorded for a job. */
export interface RecordedResult {
  readonly jobId: string;
  readonly operation: 'PutJobSuccessResult' | 'PutJobFailureResult';
  readonly body: {
    readonly continuationToken?: string;
    readonly outputVariables?: Record<string, string>;
    readonly executionDetails?: { summary?: string };
    readonly failureDetails?: { type: string; message: string };
  };
}

/** Every report the stand-in accepted for a job (it refuses a second one, so at most one). */
export async function recordedResults(jobId: string): Promise<RecordedResult[]> {
  const res = await fetch(
    `${embeddedEnv().AWS_ENDPOINT_URL_CODEPIPELINE}/_results?jobId=${encodeURIComponent(jobId)}`,
  );
  return (await res.json()) as RecordedResult[];
}

export async function recordedResult(jobId: string): Promise<RecordedResult | undefined> {
  return (await recordedResults(jobId))[0];
}

export const newJobId = (): string => randomUUID();

/** The pipeline the tests' jobs belong to. */
const pipelineName = 'm2-rollout-test';

/** The jobs CodePipeline would have created: the stand-in's GetJobDetails answers for these. */
export async function createJob(job: {
  readonly jobId: string;
  readonly userParameters: string;
  readonly continuationToken?: string;
  readonly pipelineName?: string;
}): Promise<void> {
  const res = await fetch(`${embeddedEnv().AWS_ENDPOINT_URL_CODEPIPELINE}/_jobs`, {
    method: 'POST',
    body: JSON.stringify({ pipelineName, ...job }),
  });
  if (!res.ok)
    throw new Error(`the CodePipeline stand-in refused the job: ${res.status} ${await res.text()}`);
}

/** Stop and abandon, as the console's "Stop execution" does for the job. */
export async function abandonJob(jobId: string): Promise<void> {
  const res = await fetch(
    `${embeddedEnv().AWS_ENDPOINT_URL_CODEPIPELINE}/_jobs/abandon?jobId=${encodeURIComponent(jobId)}`,
    { method: 'POST' },
  );
  if (!res.ok) throw new Error(`the CodePipeline stand-in could not abandon ${jobId}: ${res.status}`);
}

const tokenSecretName = 'm2-rollout-token-integration';
let tokenKey: Promise<TokenKeySource> | undefined;

/** The rollout's token key, from a Secrets Manager secret in moto (created once, 64 random characters). */
function testTokenKey(): Promise<TokenKeySource> {
  tokenKey ??= (async () => {
    const client = new SecretsManagerClient({});
    let arn: string | undefined;
    try {
      arn = (
        await client.send(
          new CreateSecretCommand({
            Name: tokenSecretName,
            SecretString: randomBytes(48).toString('base64url'),
          }),
        )
      ).ARN;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      arn = (await client.send(new DescribeSecretCommand({ SecretId: tokenSecretName }))).ARN;
    }
    if (arn === undefined) throw new Error('moto returned no ARN for the token secret');
    return createSecretsManagerTokenKey({ secretId: arn, client });
  })();
  return tokenKey;
}

/**
 * One invocation of the rollout, as the m2:rollout role (its own EKS token and RBAC), for a job
 * the CodePipeline stand-in created with these parameters and token (unless `created: false`).
 */
export async function invokeRollout(
  cluster: ClusterClient,
  job: {
    id: string;
    params: object | string;
    continuationToken?: string;
    inputArtifact?: InputArtifact;
    created?: boolean;
  },
  options: { remainingMs?: () => number; timeoutSeconds?: number; log?: Log } = {},
): Promise<RolloutResult> {
  const userParameters = typeof job.params === 'string' ? job.params : JSON.stringify(job.params);
  if (job.created !== false) {
    await createJob({
      jobId: job.id,
      userParameters,
      ...(job.continuationToken === undefined ? {} : { continuationToken: job.continuationToken }),
    });
  }
  return runRollout(
    {
      id: job.id,
      userParameters,
      continuationToken: job.continuationToken,
      ...(job.inputArtifact === undefined ? {} : { inputArtifact: job.inputArtifact }),
    },
    {
      cluster,
      results: jobResults(),
      tokenKey: await testTokenKey(),
      log: options.log ?? quietLog,
      now: Date.now,
      sleep: (ms) => sleep(ms),
      remainingMs: options.remainingMs ?? (() => 15 * 60_000),
      readArtifactImage: s3ArtifactImageReader(),
    },
    defaultRolloutSettings,
  );
}

/** The images of a Deployment's or CronJob's containers, as the admin reads them. */
export function imagesOf(namespace: string, kind: 'deployment' | 'cronjob', name: string): string[] {
  const object = kubectlJson<V1Deployment & V1CronJob>(['get', kind, name, '-n', namespace]);
  const template = kind === 'deployment' ? object.spec?.template : object.spec?.jobTemplate.spec?.template;
  return (template?.spec?.containers ?? []).map((c) => c.image ?? '');
}

/** A pod template as the admin reads it (for "exactly as before" comparisons). */
export function templateOf(namespace: string, kind: 'deployment' | 'cronjob', name: string): unknown {
  const object = kubectlJson<V1Deployment & V1CronJob>(['get', kind, name, '-n', namespace]);
  return kind === 'deployment' ? object.spec?.template : object.spec?.jobTemplate.spec?.template;
}
