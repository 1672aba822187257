import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { type CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { clusterSettingsFromEnv } from '../../../lib/k8s/clusterSettings.ts';
import { connectCluster } from '../../../lib/k8s/connection.ts';
import type { Log } from '../../../lib/observability/telemetry.ts';
import { defaultRolloutSettings, type RolloutResult, runRollout } from '../../../lib/rollout/executor.ts';
import { CodePipelineJobResults } from '../../../lib/rollout/jobResults.ts';
import type { TokenKeySource } from '../../../lib/rollout/tokenKey.ts';
import { kubectlAsync, manifestsDir } from './kubectl.ts';
import type { LogLine } from './rolloutVerdict.ts';
import type { ShopCluster } from './shopWeb.ts';

/** A Log that keeps every line with its wall-clock time (debug lines dropped). */
export function recordingLog(lines: LogLine[]): Log {
  const add = (message: string, fields: Record<string, unknown> = {}) =>
    lines.push({ at: Date.now(), message, fields });
  return { debug: () => {}, info: add, warn: add, error: add };
}

/**
 * When a pod of `image` was first seen Ready in `namespace` (polled every 200 ms until stopped), so
 * the time from it to a rollout's verdict can be printed.
 */
export function firstReady(
  cluster: { readonly core: CoreV1Api },
  namespace: string,
  image: string,
): { stop: () => Promise<number | undefined> } {
  let seen: number | undefined;
  let running = true;
  const loop = (async () => {
    while (running && seen === undefined) {
      const pods = await cluster.core.listNamespacedPod({ namespace });
      const ready = pods.items.some(
        (p) =>
          // A terminating pod is an earlier run's (its preview is deleted after a verdict).
          p.metadata?.deletionTimestamp === undefined &&
          p.spec?.containers.some((c) => c.image === image) &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      if (ready) seen = Date.now();
      else await sleep(200);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

const rolloutRoleArn = 'arn:aws:iam::123456789012:role/m2-rollout';
/** Never used to hand over (one invocation per release); preflight checks its size. */
const tokenKeyBytes = randomBytes(32);
const benchTokenKey: TokenKeySource = { tokenKey: async () => tokenKeyBytes };

/**
 * The rollout function's role in `namespace`, as deployed: the platform manifests applied (ClusterRole
 * m2:rollout, its admission policies), RoleBinding m2-rollout, and a connection as the IAM role
 * through EKS tokens. Needs the embedded environment's variables in process.env (after up()).
 */
export function rolloutRole(admin: ShopCluster, namespace: string): Promise<ClusterClient> {
  let role = roles.get(namespace);
  if (role === undefined) {
    role = connectRole(admin, namespace);
    roles.set(namespace, role);
  }
  return role;
}

/** One role connection per shop namespace: every run of every rollout scenario reuses it. */
const roles = new Map<string, Promise<ClusterClient>>();

async function connectRole(admin: ShopCluster, namespace: string): Promise<ClusterClient> {
  await kubectlAsync([
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=m2-bench-traffic',
    '-k',
    join(manifestsDir, 'platform'),
  ]);
  await admin.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'm2-rollout' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'm2:rollout' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'm2:rollout' }],
    },
  });
  return connectCluster(clusterSettingsFromEnv({ ...process.env, EKS_ASSUME_ROLE_ARN: rolloutRoleArn }));
}

/** One invocation of the rollout function for a job the CodePipeline stand-in created with `params`. */
export async function invokeRolloutAs(role: ClusterClient, params: object, log: Log): Promise<RolloutResult> {
  const id = randomUUID();
  const userParameters = JSON.stringify(params);
  const endpoint = process.env.AWS_ENDPOINT_URL_CODEPIPELINE ?? '';
  const res = await fetch(`${endpoint}/_jobs`, {
    method: 'POST',
    body: JSON.stringify({ jobId: id, pipelineName: 'bench-traffic', userParameters }),
  });
  if (!res.ok)
    throw new Error(`the CodePipeline stand-in refused the job: ${res.status} ${await res.text()}`);
  return runRollout(
    { id, userParameters, continuationToken: undefined },
    {
      cluster: role,
      results: new CodePipelineJobResults(new CodePipelineClient({})),
      tokenKey: benchTokenKey,
      log,
      now: Date.now,
      sleep: (ms) => sleep(ms),
      remainingMs: () => 15 * 60_000,
    },
    defaultRolloutSettings,
  );
}
