import { decodeContinuationToken, type RolloutState } from '../../../lib/rollout/continuationToken.ts';
import {
  defaultRolloutSettings,
  type RolloutResult,
  type RolloutSettings,
  runRollout,
} from '../../../lib/rollout/executor.ts';
import { finishedReleasesAnnotation, parseFinishedReleases } from '../../../lib/rollout/releaseHistory.ts';
import type { FakeClusterOptions } from '../../helpers/fakeCluster/fakeCluster.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { FakeJobResults, quietLog, tokenKeyOf } from './fakes.ts';

export const namespace = 'shop-a';
export const repository = 'registry.example/magento';
export const oldImage = `${repository}:2.4.7`;
export const newImage = `${repository}:2.4.8`;
export const consumers = ['m2-consumer-export', 'm2-consumer-media'] as const;

/** A shop on the fake cluster: web, two consumers and cron on the old image, and CodePipeline's side. */
export interface Shop {
  readonly cluster: FakeCluster;
  readonly results: FakeJobResults;
}

/** The example shop: 3 web replicas (maxSurge 1, maxUnavailable 0), two consumers, cron, optionally m2-migrate. */
export function newShop(
  options: FakeClusterOptions & { migrationTemplate?: boolean; webAnnotations?: Record<string, string> } = {},
): Shop {
  const cluster = new FakeCluster(options);
  cluster.addDeployment(namespace, 'm2-http', {
    image: oldImage,
    ...(options.webAnnotations === undefined ? {} : { annotations: options.webAnnotations }),
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
  });
  for (const name of consumers) {
    cluster.addDeployment(namespace, name, {
      image: oldImage,
      replicas: 1,
      labels: { 'app.kubernetes.io/component': 'consumer' },
    });
  }
  cluster.addCronJob(namespace, 'm2-cron', oldImage);
  if (options.migrationTemplate === true) {
    cluster.addCronJob(namespace, 'm2-migrate', oldImage, { 'm2-eks-pipeline.io/blue-green-enabled': '1' });
  }
  return { cluster, results: new FakeJobResults() };
}

/**
 * One invocation of the rollout action (imageTag 2.4.8, no migration unless the parameters say so),
 * for a job CodePipeline created with these parameters (and token) unless `created: false`.
 */
export function invoke(
  shop: Shop,
  job: { id: string; params?: object; continuationToken?: string; created?: boolean },
  remainingMs: () => number = () => 15 * 60_000,
  settings: RolloutSettings = defaultRolloutSettings,
): Promise<RolloutResult> {
  const userParameters = JSON.stringify(job.params ?? { namespace, imageTag: '2.4.8', migrate: 'never' });
  if (job.created !== false) {
    shop.results.createJob(job.id, { userParameters, continuationToken: job.continuationToken });
  }
  return runRollout(
    { id: job.id, userParameters, continuationToken: job.continuationToken },
    {
      cluster: shop.cluster,
      results: shop.results,
      tokenKey: tokenKeyOf(),
      log: quietLog,
      now: shop.cluster.clock.now,
      sleep: shop.cluster.clock.sleep,
      remainingMs,
    },
    settings,
  );
}

/** A Lambda budget that starts now with `ms` left. */
export const budget = (shop: Shop, ms: number): (() => number) => {
  const start = shop.cluster.clock.now();
  return () => ms - (shop.cluster.clock.now() - start);
};

/** The continuation token of the last report, decoded. */
export function lastToken(shop: Shop): { raw: string; state: RolloutState } | undefined {
  const report = shop.results.reports.at(-1);
  const raw = report?.operation === 'success' ? report.report.continuationToken : undefined;
  return raw === undefined ? undefined : { raw, state: decodeContinuationToken(raw) };
}

/** The message of the failure report for a job. */
export const failureOf = (shop: Shop, jobId: string): string | undefined => {
  const report = shop.results.reports.find((r) => r.jobId === jobId);
  return report?.operation === 'failure' ? report.message : undefined;
};

export const finishedOn = (shop: Shop) =>
  parseFinishedReleases(
    shop.cluster.lease(namespace, 'm2-rollout')?.metadata?.annotations?.[finishedReleasesAnnotation],
  );

export const allImages = (shop: Shop) => ({
  web: shop.cluster.images('deployments', namespace, 'm2-http'),
  consumers: consumers.map((name) => shop.cluster.images('deployments', namespace, name)),
  cron: shop.cluster.images('cronjobs', namespace, 'm2-cron'),
});

/** Images of the pods that are not being deleted, sorted. */
export const podImages = (shop: Shop, deployment: string): string[] =>
  shop.cluster
    .objects('pods', namespace, `app=${deployment}`)
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .flatMap((p) => (p.spec?.containers ?? []).map((c) => c.image ?? ''))
    .sort();

/** allImages of a shop nothing was rolled on: every container still on the old image. */
export const untouched = {
  web: [oldImage, oldImage],
  consumers: [
    [oldImage, oldImage],
    [oldImage, oldImage],
  ],
  cron: [oldImage],
};
