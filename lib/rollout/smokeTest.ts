import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { messageOf } from '../common/messageOf.ts';
import type { ClusterClient, ProxiedResponse } from '../k8s/clusterClient.ts';
import { AlreadyExistsError, ForbiddenError, K8sError, NotFoundError } from '../k8s/errors.ts';
import type { RolloutProgress } from '../k8s/rolloutProgress.ts';
import { createService, deleteService, getThroughServiceProxy } from '../k8s/services.ts';
import type { Log } from '../observability/telemetry.ts';
import { SmokeCheckFailedError } from './errors.ts';
import { handOverAt, type RolloutRun } from './run.ts';
import {
  type CheckVerdict,
  defaultRetryShape,
  judgeResponse,
  linkedAsset,
  nextAttemptIn,
  type RetryShape,
  type SmokeCheck,
  type SmokePlan,
  smokePlan,
} from './smokeChecks.ts';

/**
 * The Service the checks go through: one per shop, re-created for each verification. Its name is
 * the one the rollout's RBAC (services/proxy get, services delete) and admission policy allow.
 */
export const smokeService = { name: 'm2-http-smoke', port: 'http' } as const;

/**
 * A Service selecting only the pods of the Deployment's new ReplicaSet (its selector plus the new
 * `pod-template-hash`), on the pods' port named `http` (base/web.yaml's nginx).
 */
export function smokeServiceFor(deployment: V1Deployment, templateHash: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: smokeService.name,
      labels: {
        'app.kubernetes.io/name': smokeService.name,
        'app.kubernetes.io/component': 'smoke-check',
        'app.kubernetes.io/managed-by': 'm2-eks-pipeline',
      },
    },
    spec: {
      type: 'ClusterIP',
      selector: { ...deployment.spec?.selector.matchLabels, 'pod-template-hash': templateHash },
      ports: [{ name: smokeService.port, port: 80, targetPort: smokeService.port, protocol: 'TCP' }],
    },
  };
}

/** What the checks need from the rollout: the cluster, a log and the clock. */
interface SmokePorts {
  readonly cluster: ClusterClient;
  readonly log: Log;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** What a passed verification cost. */
interface SmokeOutcome {
  readonly checks: number;
  readonly requests: number;
  readonly ms: number;
}

/** One attempt's answer, or why none came (the apiserver refused or reached no new pod). */
type Attempt =
  | { readonly kind: 'answered'; readonly response: ProxiedResponse; readonly verdict: CheckVerdict }
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string };

/** Creates the smoke Service; one left by a crashed verification (an older selector) is replaced. */
async function openService(cluster: ClusterClient, namespace: string, service: V1Service): Promise<void> {
  try {
    await createService(cluster, namespace, service);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    await deleteService(cluster, { namespace, name: smokeService.name });
    await createService(cluster, namespace, service);
  }
}

async function closeService(ports: SmokePorts, namespace: string): Promise<void> {
  try {
    await deleteService(ports.cluster, { namespace, name: smokeService.name });
  } catch (error) {
    // Harmless when left: it selects pods by a hash no later verification reuses, and the next one replaces it.
    if (!(error instanceof NotFoundError)) {
      ports.log.warn('smoke Service not deleted', {
        namespace,
        service: smokeService.name,
        error: error instanceof Error ? error.name : 'unknown',
      });
    }
  }
}

async function attempt(ports: SmokePorts, namespace: string, check: SmokeCheck): Promise<Attempt> {
  try {
    const response = await getThroughServiceProxy(
      ports.cluster,
      { namespace, name: smokeService.name },
      smokeService.port,
      check.path,
    );
    return { kind: 'answered', response, verdict: judgeResponse(check, response) };
  } catch (error) {
    if (!(error instanceof K8sError)) throw error;
    // RBAC or admission: no retry changes it, and the release cannot be verified.
    if (error instanceof ForbiddenError)
      return { kind: 'refused', reason: `could not be sent: ${messageOf(error)}` };
    // No endpoint yet (the Service is seconds old), a pod that stopped answering, a slow apiserver.
    return { kind: 'unreachable', reason: `reached no new pod: ${messageOf(error)}` };
  }
}

/** The failure of a check whose last attempt was `outcome`. */
function checkFailure(
  target: string,
  check: SmokeCheck,
  outcome: Attempt,
  tries: number,
): SmokeCheckFailedError {
  const status = outcome.kind === 'answered' ? outcome.response.status : undefined;
  const reason =
    outcome.kind !== 'answered'
      ? outcome.reason
      : outcome.verdict.kind === 'mismatch'
        ? outcome.verdict.reason
        : 'passed';
  const attempts = `${tries} ${tries === 1 ? 'attempt' : 'attempts'}`;
  return new SmokeCheckFailedError(
    target,
    `GET ${check.path}`,
    status,
    `${reason} (${attempts}, through service/${smokeService.name})`,
  );
}

/**
 * Runs one check with bounded retries and backoff; resolves with its last answer when it passed,
 * throws SmokeCheckFailedError (the request, status and the body's first bytes) when it did not.
 */
async function runCheck(
  ports: SmokePorts,
  target: string,
  namespace: string,
  check: SmokeCheck,
  deadlineAt: number,
  shape: RetryShape,
): Promise<{ response: ProxiedResponse; requests: number }> {
  for (let tries = 1; ; tries++) {
    const outcome = await attempt(ports, namespace, check);
    if (outcome.kind === 'answered' && outcome.verdict.kind === 'pass') {
      return { response: outcome.response, requests: tries };
    }
    const pause =
      outcome.kind === 'refused' ? undefined : nextAttemptIn(tries, ports.now(), deadlineAt, shape);
    if (pause === undefined) {
      const failed = checkFailure(target, check, outcome, tries);
      ports.log.warn('smoke check failed', {
        target,
        path: check.path,
        status: failed.status,
        attempts: tries,
      });
      throw failed;
    }
    // Which kind of miss, not the body: a retry is routine (a new Service's endpoints take a moment).
    ports.log.debug('smoke check retried', {
      target,
      path: check.path,
      attempt: tries,
      ...(outcome.kind === 'answered' ? { status: outcome.response.status } : { miss: outcome.kind }),
    });
    await ports.sleep(pause);
  }
}

/**
 * Sends the plan's checks to the new pods of a Deployment only, through a Service selecting its new
 * ReplicaSet, via the apiserver's service proxy (the rollout reaches nothing but the EKS API). Each
 * check is retried with backoff within the plan's budget; the first that fails for good throws
 * SmokeCheckFailedError. The Service is deleted again whatever happened.
 *
 * @example await runSmokeChecks(ports, 'shop-a', deployment, progress.newTemplateHash, smokePlan(target, annotations))
 */
async function runSmokeChecks(
  ports: SmokePorts,
  namespace: string,
  deployment: V1Deployment,
  templateHash: string,
  plan: SmokePlan,
  shape: RetryShape = defaultRetryShape,
): Promise<SmokeOutcome> {
  const startedAt = ports.now();
  const deadlineAt = startedAt + plan.budgetMs;
  const target = `${namespace}/deployment/${deployment.metadata?.name ?? ''}`;
  await openService(ports.cluster, namespace, smokeServiceFor(deployment, templateHash));
  let requests = 0;
  try {
    for (const check of plan.checks) {
      const passed = await runCheck(ports, target, namespace, check, deadlineAt, shape);
      requests += passed.requests;
      if (!check.asset) continue;
      const asset = linkedAsset(passed.response.body);
      if (asset === undefined) {
        throw new SmokeCheckFailedError(
          target,
          `GET ${check.path}`,
          passed.response.status,
          'links no /static/ CSS or JS file (asset: true)',
        );
      }
      requests += (
        await runCheck(
          ports,
          target,
          namespace,
          { path: asset, statuses: [200], asset: false },
          deadlineAt,
          shape,
        )
      ).requests;
    }
  } finally {
    await closeService(ports, namespace);
  }
  return { checks: plan.checks.length, requests, ms: ports.now() - startedAt };
}

const ready = (progress: RolloutProgress): boolean =>
  progress.status.phase !== 'observing' &&
  progress.newTemplateHash !== undefined &&
  progress.newPods.some((p) => p.ready && !p.terminating);

/**
 * The verification of a web Deployment's new pods, for its rollout wait: runs its smoke checks once
 * a new pod is Ready. 'later' when not enough of this invocation is left for the budget (the next
 * invocation verifies); 'verified' when they passed, are turned off (`[]`), or there is no pod to
 * check (scaled to zero). Throws SmokeCheckFailedError, or SmokePlanError for a malformed annotation.
 */
export function newPodsVerifier(
  run: RolloutRun,
): (progress: RolloutProgress) => Promise<'verified' | 'later'> {
  return async (progress) => {
    const { namespace } = run.params;
    const name = progress.deployment.metadata?.name ?? '';
    const target = `${namespace}/deployment/${name}`;
    const plan = smokePlan(target, progress.deployment.metadata?.annotations ?? {});
    const fields = { jobId: run.job.id, target, source: plan.source };
    if (plan.checks.length === 0 || !ready(progress) || progress.newTemplateHash === undefined) {
      run.ports.log.info(plan.checks.length === 0 ? 'smoke checks off' : 'no new pod to smoke-check', fields);
      return 'verified';
    }
    if (run.ports.now() + plan.budgetMs > handOverAt(run)) return 'later';
    const outcome = await runSmokeChecks(
      run.ports,
      namespace,
      progress.deployment,
      progress.newTemplateHash,
      plan,
    );
    run.ports.log.info('smoke checks passed', { ...fields, ...outcome });
    return 'verified';
  };
}
