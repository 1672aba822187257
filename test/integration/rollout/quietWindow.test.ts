import type { V1CronJob, V1Deployment, V1Job, V1PodList } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { jsonPatchCronJob } from '../../../lib/k8s/cronJobs.ts';
import { jsonPatchDeployment } from '../../../lib/k8s/deployments.ts';
import { ForbiddenError } from '../../../lib/k8s/errors.ts';
import { annotationPath } from '../../../lib/k8s/jsonPatch.ts';
import { quietWindowAnnotation } from '../../../lib/rollout/quietWindow.ts';
import { pausedByRolloutAnnotation } from '../../../lib/scaling/annotations.ts';
import { roleArns, roleCluster, type TestCluster } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectl, kubectlJson } from '../manifests/cluster.ts';
import {
  applyShop,
  deleteShop,
  invokeRollout,
  newJobId,
  recordedResult,
  shopNamespace,
} from './rolloutFixture.ts';

const consumers = ['m2-consumer-async-operations', 'm2-consumer-product-updates'] as const;

let rollout: TestCluster;
const namespaces: string[] = [];

async function newShop(): Promise<string> {
  const namespace = shopNamespace();
  namespaces.push(namespace);
  await applyShop(namespace);
  return namespace;
}

/** What the window touches, as the admin reads it. */
function windowState(namespace: string) {
  const cron = kubectlJson<V1CronJob>(['get', 'cronjob', 'm2-cron', '-n', namespace]);
  const deployments = consumers.map((name) =>
    kubectlJson<V1Deployment>(['get', 'deployment', name, '-n', namespace]),
  );
  return {
    cronSuspended: cron.spec?.suspend ?? false,
    cronRecorded: cron.metadata?.annotations?.[quietWindowAnnotation] !== undefined,
    replicas: deployments.map((d) => d.spec?.replicas),
    paused: deployments.map((d) => d.metadata?.annotations?.[pausedByRolloutAnnotation]),
    recorded: deployments.map((d) => d.metadata?.annotations?.[quietWindowAnnotation] !== undefined),
    consumerPods: consumers.map(
      (name) =>
        kubectlJson<V1PodList>(['get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/name=${name}`]).items
          .length,
    ),
  };
}

/**
 * The rollout's own client, except that creating the migration Job also reads the shop as the admin
 * right after the apiserver admitted the Job: what the window looks like while the migration runs.
 */
function observingMigration(namespace: string): {
  cluster: ClusterClient;
  seen: { during?: ReturnType<typeof windowState> };
} {
  const seen: { during?: ReturnType<typeof windowState> } = {};
  const cluster = new Proxy(rollout, {
    get(target, property) {
      if (property === 'createJob') {
        return async (ns: string, job: V1Job, options?: { signal?: AbortSignal }) => {
          const created = await target.createJob(ns, job, options);
          if (job.metadata?.name?.startsWith('m2-migrate-') === true) seen.during = windowState(namespace);
          return created;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { cluster, seen };
}

beforeAll(async () => {
  embeddedEnv();
  rollout = await roleCluster(roleArns.rollout);
});

afterAll(() => {
  for (const namespace of namespaces) deleteShop(namespace);
});

describe('the quiet migration window on the embedded stack, as m2:rollout', () => {
  it('suspends cron and holds every consumer at 0 with no pod while the migration runs, then restores both', async () => {
    // Prepare
    const namespace = await newShop();
    const before = windowState(namespace);
    const { cluster, seen } = observingMigration(namespace);
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(cluster, { id: jobId, params: { namespace, imageTag: '2.4.8' } });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(before).toMatchObject({ cronSuspended: false, paused: [undefined, undefined] });
    expect(seen.during).toEqual({
      cronSuspended: true,
      cronRecorded: true,
      replicas: [0, 0],
      paused: [jobId.toLowerCase(), jobId.toLowerCase()],
      recorded: [true, true],
      consumerPods: [0, 0],
    });
    expect(windowState(namespace)).toMatchObject({
      cronSuspended: false,
      cronRecorded: false,
      replicas: before.replicas,
      paused: [undefined, undefined],
      recorded: [false, false],
    });
    expect((await recordedResult(jobId))?.body.executionDetails?.summary).toContain('quiet window');
  });

  it('restores cron and the consumers after a failed migration', async () => {
    // Prepare
    const namespace = await newShop();
    const before = windowState(namespace);
    const { cluster, seen } = observingMigration(namespace);
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(cluster, {
      id: jobId,
      params: { namespace, imageTag: '2.4.8-job-fail' },
    });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(seen.during).toMatchObject({ cronSuspended: true, replicas: [0, 0], consumerPods: [0, 0] });
    expect(windowState(namespace)).toMatchObject({
      cronSuspended: false,
      cronRecorded: false,
      replicas: before.replicas,
      paused: [undefined, undefined],
      recorded: [false, false],
    });
    expect((await recordedResult(jobId))?.body.failureDetails?.message).toMatch(/migration job .* failed/);
  });

  it.each([
    ['web’s replicas', 'deployment', 'm2-http', '/spec/replicas', 0],
    ['a consumer scaled up inside the window', 'deployment', consumers[0], '/spec/replicas', 3],
    ['the migration template’s suspend', 'cronjob', 'm2-migrate', '/spec/suspend', false],
    ['cron’s schedule', 'cronjob', 'm2-cron', '/spec/schedule', '*/5 * * * *'],
  ] as const)('refuses %s even with the window’s record', async (_case, kind, name, path, value) => {
    // Prepare
    const namespace = await newShop();
    const ref = { namespace, name };
    // An annotation map to add the record to, so only the spec change is judged.
    kubectl(['annotate', kind, name, '-n', namespace, 'test.m2-eks-pipeline.io/marker=1']);
    const operations = [
      {
        op: 'add' as const,
        path: annotationPath(quietWindowAnnotation),
        value: JSON.stringify({ release: 'r-x', replicas: 1 }),
      },
      { op: 'replace' as const, path, value },
    ];

    // Act
    const outcome = await (kind === 'deployment'
      ? jsonPatchDeployment(rollout, ref, operations)
      : jsonPatchCronJob(rollout, ref, operations)
    ).then(
      () => 'admitted',
      (error: unknown) => error,
    );

    // Assess
    expect(outcome).toBeInstanceOf(ForbiddenError);
    expect(String((outcome as Error).message)).toContain('changed the spec outside the pod template');
  });
});
