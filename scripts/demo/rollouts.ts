import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { AppsV1Api } from '@kubernetes/client-node';
import { metricNames } from '../../lib/observability/metricNames.ts';
import type { MetricTally } from './emf.ts';
import { codePipelineJobEvent } from './events.ts';
import type { LambdaHost } from './lambdaHost.ts';
import type { ReleaseLoad, ReleaseTraffic } from './releaseTraffic.ts';

/** The web Deployment at one instant of a release. */
export interface AvailabilitySample {
  /** s since the release's first CodePipeline job (negative: the storefront load's baseline before it). */
  readonly atS: number;
  readonly available: number;
  readonly desired: number;
  /** Pods of the new template. */
  readonly updated: number;
  /** All pods (old and new, Ready or not): above `desired` while a surge pod exists. */
  readonly total: number;
}

/** What the CodePipeline stand-in recorded for a job (its GET /_results). */
export interface RecordedJobResult {
  readonly jobId: string;
  readonly operation: 'PutJobSuccessResult' | 'PutJobFailureResult';
  readonly body: {
    readonly continuationToken?: string;
    readonly outputVariables?: Record<string, string>;
    readonly executionDetails?: { readonly summary?: string };
    readonly failureDetails?: { readonly type: string; readonly message: string };
  };
}

export interface ReleaseRun {
  readonly label: string;
  readonly imageTag: string;
  /** Every job of the release: the first, then one per continuation. */
  readonly jobIds: readonly string[];
  /** The last invocation's outcome as the handler returned it. */
  readonly outcome: string;
  /** The verdict from the function's RolloutDuration metric: succeeded, rolled-back or failed. */
  readonly verdict: string | undefined;
  /** The function's own RolloutDuration metric, ms. */
  readonly rolloutMs: number | undefined;
  readonly wallS: number;
  readonly samples: readonly AvailabilitySample[];
  readonly desired: number;
  readonly minAvailable: number;
  /** What CodePipeline was told for the last job. */
  readonly report: RecordedJobResult | undefined;
  readonly error?: string;
  /** The storefront load around the release (real-node lane only: on KWOK no pod serves). */
  readonly traffic?: ReleaseTraffic;
  /** Why there are no traffic figures although a load was asked for. */
  readonly trafficError?: string;
}

export interface ReleaseOptions {
  readonly host: LambdaHost;
  readonly tally: MetricTally;
  readonly apps: AppsV1Api;
  readonly namespace: string;
  readonly webDeployment: string;
  /** The CodePipeline stand-in (AWS_ENDPOINT_URL_CODEPIPELINE). */
  readonly codePipelineEndpoint: string;
  readonly progress: (line: string) => void;
  readonly sampleEveryMs?: number;
  /** Storefront load started before the first job and stopped after the release (real-node lane). */
  readonly load?: ReleaseLoad;
}

/** Creates the Lambda-invoke job in the CodePipeline stand-in (its `POST /_jobs`), as CodePipeline does. */
async function createJob(
  endpoint: string,
  jobId: string,
  params: object,
  continuationToken: string | undefined,
): Promise<void> {
  const res = await fetch(`${endpoint}/_jobs`, {
    method: 'POST',
    body: JSON.stringify({
      jobId,
      pipelineName: 'm2-demo-release',
      // The same text codePipelineJobEvent puts into the event.
      userParameters: JSON.stringify(params),
      ...(continuationToken === undefined ? {} : { continuationToken }),
    }),
  });
  if (!res.ok) throw new Error(`POST ${endpoint}/_jobs answered ${res.status}: ${await res.text()}`);
}

const tokenSecretName = 'm2-demo-rollout-token';

/**
 * The ARN of the rollout's continuation-token key in the embedded Secrets Manager (moto), created
 * with 64 random characters on first use, as an operator creates it once per stage.
 */
export async function rolloutTokenSecret(): Promise<string> {
  const client = new SecretsManagerClient({});
  try {
    const created = await client.send(
      new CreateSecretCommand({ Name: tokenSecretName, SecretString: randomBytes(48).toString('base64url') }),
    );
    return created.ARN ?? '';
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    return (await client.send(new DescribeSecretCommand({ SecretId: tokenSecretName }))).ARN ?? '';
  }
}

/** Reads back what the rollout reported for `jobId`, as CodePipeline would show it. */
export async function recordedJobResult(
  endpoint: string,
  jobId: string,
): Promise<RecordedJobResult | undefined> {
  const res = await fetch(`${endpoint}/_results?jobId=${encodeURIComponent(jobId)}`);
  if (!res.ok) throw new Error(`GET ${endpoint}/_results answered ${res.status}`);
  return ((await res.json()) as RecordedJobResult[])[0];
}

/**
 * Samples the web Deployment every `everyMs` with the admin's credentials until stopped, and says
 * what it sees through `progress` once a second. `atS` is counted from `started` (epoch ms) while
 * sampling; `stop(originMs)` moves the samples onto the release's clock.
 */
function sampleAvailability(options: ReleaseOptions, started: number) {
  const samples: AvailabilitySample[] = [];
  let stopped = false;
  let lastSaid = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        const d = await options.apps.readNamespacedDeployment({
          name: options.webDeployment,
          namespace: options.namespace,
        });
        const sample = {
          atS: (Date.now() - started) / 1000,
          available: d.status?.availableReplicas ?? 0,
          desired: d.spec?.replicas ?? 0,
          updated: d.status?.updatedReplicas ?? 0,
          total: d.status?.replicas ?? 0,
        };
        samples.push(sample);
        if (sample.atS - lastSaid >= 1) {
          lastSaid = sample.atS;
          options.progress(
            `${sample.atS.toFixed(0)} s: ${options.webDeployment} available ${sample.available}/${sample.desired}, updated ${sample.updated}`,
          );
        }
      } catch {
        // A missed sample (apiserver busy) is a gap in the plot, not a failure of the release.
      }
      await new Promise((resolve) => setTimeout(resolve, options.sampleEveryMs ?? 200));
    }
  })();
  return {
    stop: async (originMs: number): Promise<AvailabilitySample[]> => {
      stopped = true;
      await loop;
      const shiftS = (started - originMs) / 1000;
      return samples.map((s) => ({ ...s, atS: Math.round((s.atS + shiftS) * 1000) / 1000 }));
    },
  };
}

/**
 * Runs one release as CodePipeline's Lambda action would: invokes the rollout handler with a job
 * for `params`, and while the function hands over with a continuation token, invokes it again with
 * a new job carrying that token. Samples web availability throughout, and with `options.load` also
 * during the storefront load's baseline before the first job and its tail after the last.
 */
export async function runRelease(
  label: string,
  params: { readonly namespace: string; readonly imageTag: string } & Record<string, unknown>,
  options: ReleaseOptions,
): Promise<ReleaseRun> {
  const sampler = sampleAvailability(options, Date.now());
  let trafficError: string | undefined;
  if (options.load !== undefined) {
    options.progress(`${label}: storefront load on, baseline before the first job`);
    await options.load.start().catch((error: unknown) => {
      trafficError = errorText(error);
    });
  }
  const started = Date.now();
  const since = options.tally.mark();
  const jobIds: string[] = [];
  let continuationToken: string | undefined;
  let outcome = 'not run';
  let error: string | undefined;
  let report: RecordedJobResult | undefined;
  let samples: AvailabilitySample[] = [];
  let ended: { wallS: number; traffic: ReleaseTraffic | undefined } = { wallS: 0, traffic: undefined };
  try {
    for (let invocation = 1; invocation <= 20; invocation++) {
      const jobId = randomUUID();
      jobIds.push(jobId);
      // CodePipeline creates the job before invoking: the function checks it with GetJobDetails.
      await createJob(options.codePipelineEndpoint, jobId, params, continuationToken);
      options.progress(
        `${label}: CodePipeline job ${jobId.slice(0, 8)}…${continuationToken ? ' (continuation)' : ''} → rollout`,
      );
      const result = await options.host.invoke<{ outcome: string }>(
        codePipelineJobEvent(jobId, params, continuationToken),
      );
      report = await recordedJobResult(options.codePipelineEndpoint, jobId);
      if (result.error !== undefined) {
        error = `${result.error.name}: ${result.error.message}`;
        outcome = 'function error';
        break;
      }
      outcome = result.result?.outcome ?? 'no result';
      continuationToken = report?.body.continuationToken;
      if (outcome !== 'continued' || continuationToken === undefined) break;
    }
  } finally {
    const wallS = (Date.now() - started) / 1000;
    // The samples end with the load's tail (old pods shut down after the rollout reported), or with
    // the release when there is no load.
    const traffic = await stopLoad(options, label, started, trafficError);
    trafficError = traffic.error;
    samples = await sampler.stop(started);
    ended = { wallS, traffic: traffic.figures };
  }
  const durations = options.tally.values(metricNames.rollout.duration, since);
  const last = durations.at(-1);
  const desired = Math.max(0, ...samples.map((s) => s.desired));
  return {
    label,
    imageTag: params.imageTag,
    jobIds,
    outcome,
    verdict: last?.dimensions.outcome,
    rolloutMs: last?.value,
    wallS: ended.wallS,
    samples,
    desired,
    minAvailable: samples.length === 0 ? 0 : Math.min(...samples.map((s) => s.available)),
    report,
    ...(error === undefined ? {} : { error }),
    ...(ended.traffic === undefined ? {} : { traffic: ended.traffic }),
    ...(trafficError === undefined ? {} : { trafficError }),
  };
}

/** Ends the release's storefront load (after its tail); a load that failed is reported, not thrown. */
async function stopLoad(
  options: ReleaseOptions,
  label: string,
  originMs: number,
  startError: string | undefined,
): Promise<{ figures?: ReleaseTraffic; error?: string }> {
  if (options.load === undefined) return {};
  if (startError !== undefined) return { error: startError };
  options.progress(`${label}: release done; storefront load on for its tail (old pods shutting down)`);
  try {
    return { figures: await options.load.stop(originMs) };
  } catch (error) {
    return { error: errorText(error) };
  }
}

const errorText = (error: unknown): string =>
  error instanceof Error
    ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}`
    : String(error);
