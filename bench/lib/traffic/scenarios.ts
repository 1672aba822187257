import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { TargetFailedError } from '../../../lib/rollout/errors.ts';
import { type ReleaseTag, releaseImage } from '../../../scripts/local/images/releases.ts';
import { consumerKilled, consumersScaledDown } from './consumerScenarios.ts';
import { kubectlAsync } from './kubectl.ts';
import type { MessageAccount } from './messageLedger.ts';
import { firstReady, invokeRolloutAs, recordingLog, rolloutRole } from './rolloutFunction.ts';
import { type LogLine, type RolloutVerdict, rolloutVerdictOf } from './rolloutVerdict.ts';
import type { ShopConsumers } from './shopConsumers.ts';
import {
  namespaceLabel,
  type ShopCluster,
  setWebRelease,
  waitForRollout,
  webDeployment,
  webPods,
} from './shopWeb.ts';

/** The release every scenario starts from: the overlay's pinned tag. */
export const baselineRelease: ReleaseTag = '2.4.7-p3';
/** Web pods at rest: the HPA's minReplicas, one per zone. */
export const webReplicas = 3;

/**
 * How long the load goes on after a web pod starts shutting down, so its whole shutdown is under load:
 * base/web.yaml's timeline quits nginx at t = 30 s (preStop) and php-fpm at t = 35 s; 10 s more see
 * the keep-alive connections it closed come back on the other pods.
 */
const shutdownTailMs = 45_000;
/** After a rollback of pods that never served (never Ready), a short tail is enough. */
const rollbackTailMs = 10_000;
/** A good rollout of 3 pods takes about 3 × (start + minReadySeconds 10 s) here. */
const rolloutDeadlineMs = 180_000;
/**
 * The stuck-rollout deadline the bench gives the wait (the rollout function's timeoutSeconds, 900 s
 * by default): a never-ready pod fails no probe fatally and restarts never, so only a deadline ends it.
 */
const stuckDeadlineMs = 60_000;

/** What a scenario sees while the load runs. */
export interface Stage {
  readonly cluster: ShopCluster;
  readonly namespace: string;
  /** The shop's product-updates consumer, its queue and its records (idle in the web scenarios). */
  readonly consumers: ShopConsumers;
  /** ms on the load's clock (since it started). */
  readonly elapsedMs: () => number;
  /** Records an event on the load's clock, for the timeline. */
  readonly mark: (what: string) => void;
}

/** The verdict of one run: what ended it and how long after the change. */
export interface ScenarioVerdict extends Pick<RolloutVerdict, 'sinceReadyMs' | 'previewMs'> {
  readonly verdict: string;
  /** ms from the change (image patch, pod delete, drain, scale-down) to the verdict. */
  readonly verdictMs: number;
  /** The consumer scenarios' messages: processed, lost, duplicated. */
  readonly messages?: MessageAccount;
}

export interface Scenario {
  readonly name: string;
  /** What it disturbs: the web tier under load, or the consumers (the load still runs). */
  readonly tier: 'web' | 'consumers';
  /** What the design claims: 0 failed requests (`protected`), or a known gap being recorded. */
  readonly claim: 'protected' | 'recorded';
  /** The load's time limit; the scenario stops the load earlier. */
  readonly maxLoadSeconds: number;
  /** The change under load, its verdict and the tail after it. */
  run(stage: Stage): Promise<ScenarioVerdict>;
  /** Back to the baseline (release, replicas, schedulable nodes) without load. */
  restore(stage: Stage): Promise<void>;
}

const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Polls until the web tier is at rest: `webReplicas` Ready pods of the baseline, none terminating. */
export async function waitAtRest(
  stage: Pick<Stage, 'cluster' | 'namespace'>,
  timeoutMs = 240_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const pods = await webPods(stage.cluster, stage.namespace);
    const terminating = pods.filter((p) => p.metadata?.deletionTimestamp !== undefined).length;
    const ready = pods.filter((p) => p.metadata?.deletionTimestamp === undefined && isReady(p)).length;
    if (terminating === 0 && ready === webReplicas && pods.length === webReplicas) return;
    last = `${pods.length} pods, ${ready} ready, ${terminating} terminating`;
    await sleep(1_000);
  }
  throw new Error(`${stage.namespace}/${webDeployment} not at rest after ${timeoutMs} ms (${last})`);
}

/** Waits for a rollout; its verdict as text ('complete', or why the wait gave up on it). */
async function rolloutVerdict(stage: Stage, deadlineMs: number): Promise<string> {
  try {
    await waitForRollout(stage.cluster, stage.namespace, deadlineMs);
    return 'complete';
  } catch (error) {
    // The table wants the kind of failure (CrashLoopBackOff, the deadline), not the pod's name and message.
    if (error instanceof TargetFailedError)
      return `stuck: ${error.reason.startsWith('did not complete') ? 'deadline, a new pod never Ready' : (error.reason.split(' (')[0] ?? error.reason)}`;
    throw error;
  }
}

async function restoreRelease(stage: Stage): Promise<void> {
  await setWebRelease(stage.cluster, stage.namespace, baselineRelease);
  await waitForRollout(stage.cluster, stage.namespace, rolloutDeadlineMs);
}

/**
 * A release rolled out under load with the production strategy (maxSurge 25 %, maxUnavailable 0,
 * minReadySeconds 10). `rollBack`: when the wait reports the rollout stuck, the previous release is put
 * back under load, as the rollout function's automatic rollback does.
 */
function release(
  name: string,
  tag: ReleaseTag,
  options: { claim: Scenario['claim']; deadlineMs: number; rollBack: boolean },
): Scenario {
  return {
    name,
    tier: 'web',
    claim: options.claim,
    maxLoadSeconds: 320,
    async run(stage) {
      const t0 = stage.elapsedMs();
      stage.mark(`image ${tag}`);
      await setWebRelease(stage.cluster, stage.namespace, tag);
      const verdict = await rolloutVerdict(stage, options.deadlineMs);
      const verdictMs = stage.elapsedMs() - t0;
      stage.mark(verdict);
      if (verdict === 'complete' || !options.rollBack) {
        await sleep(shutdownTailMs);
        return { verdict, verdictMs };
      }
      stage.mark(`rollback to ${baselineRelease}`);
      await restoreRelease(stage);
      stage.mark('rolled back');
      await sleep(rollbackTailMs);
      return { verdict: `${verdict}; rolled back`, verdictMs };
    },
    restore: restoreRelease,
  };
}

/**
 * The same release driven through the rollout function as its own role (m2:rollout, default settings:
 * the preview pod first, smoke checks, rollback on failure) instead of a plain rolling update.
 * verdictMs is the whole invocation; the verdict's time after the first Ready pod of the new image and
 * the preview's cost come from the function's log lines.
 */
function releaseByRollout(name: string, tag: ReleaseTag, claim: Scenario['claim']): Scenario {
  return {
    name,
    tier: 'web',
    claim,
    maxLoadSeconds: 420,
    async run(stage) {
      const role = await rolloutRole(stage.cluster, stage.namespace);
      const image = releaseImage(tag);
      const lines: LogLine[] = [];
      const ready = firstReady(stage.cluster, stage.namespace, image);
      const t0 = stage.elapsedMs();
      const startedAt = Date.now();
      stage.mark(`rollout function ${tag}`);
      const result = await invokeRolloutAs(
        role,
        {
          namespace: stage.namespace,
          image,
          migrate: 'never',
          targets: { web: [webDeployment], consumers: [], cron: [] },
        },
        recordingLog(lines),
      );
      const verdictMs = stage.elapsedMs() - t0;
      const { verdict, ...times } = rolloutVerdictOf(result, lines, startedAt, await ready.stop());
      stage.mark(verdict);
      await sleep(result.outcome === 'succeeded' ? shutdownTailMs : rollbackTailMs);
      return { verdict, verdictMs, ...times };
    },
    restore: restoreRelease,
  };
}

/** The oldest web pod (the one a scenario disturbs). */
async function oldestWebPod(stage: Stage): Promise<V1Pod> {
  const [pod] = await webPods(stage.cluster, stage.namespace);
  if (pod?.metadata?.name === undefined) throw new Error(`${stage.namespace} has no web pod`);
  return pod;
}

/** Polls until a web pod other than `gone` is Ready and `webReplicas` pods are Ready, none of them `gone`. */
async function replaced(stage: Stage, gone: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = (await webPods(stage.cluster, stage.namespace)).filter(
      (p) => p.metadata?.name !== gone && p.metadata?.deletionTimestamp === undefined && isReady(p),
    );
    if (ready.length >= webReplicas) return;
    await sleep(500);
  }
  throw new Error(`${stage.namespace}: ${gone} not replaced by a Ready pod within ${timeoutMs} ms`);
}

const webPodDeleted: Scenario = {
  name: 'web pod deleted',
  tier: 'web',
  claim: 'protected',
  maxLoadSeconds: 120,
  async run(stage) {
    const victim = (await oldestWebPod(stage)).metadata?.name ?? '';
    const t0 = stage.elapsedMs();
    stage.mark(`delete ${victim}`);
    await stage.cluster.core.deleteNamespacedPod({ namespace: stage.namespace, name: victim });
    await replaced(stage, victim);
    const verdictMs = stage.elapsedMs() - t0;
    stage.mark('replacement Ready');
    await sleep(Math.max(0, t0 + shutdownTailMs - stage.elapsedMs()));
    return { verdict: 'replaced', verdictMs };
  },
  restore: waitAtRest,
};

const uncordon = (node: string) => kubectlAsync(['uncordon', node]);

const nodeDrained: Scenario = {
  name: 'real node drained (PDB)',
  tier: 'web',
  claim: 'protected',
  maxLoadSeconds: 240,
  async run(stage) {
    const node = (await oldestWebPod(stage)).spec?.nodeName ?? '';
    const t0 = stage.elapsedMs();
    stage.mark(`drain ${node}`);
    try {
      // Only this namespace's web pods: other suites' pods on the same node are not ours to evict.
      await kubectlAsync([
        'drain',
        node,
        '--ignore-daemonsets',
        '--delete-emptydir-data',
        `--pod-selector=${namespaceLabel}=${stage.namespace}`,
        '--timeout=180s',
      ]);
    } finally {
      await uncordon(node);
    }
    const verdictMs = stage.elapsedMs() - t0;
    stage.mark(`drained, ${node} uncordoned`);
    await waitAtRest(stage);
    await sleep(rollbackTailMs);
    return { verdict: 'drained', verdictMs };
  },
  restore: waitAtRest,
};

/** Every scenario bench:traffic runs, in order. */
export const scenarios: readonly Scenario[] = [
  release('good release 2.4.7-p3 → 2.4.8', '2.4.8', {
    claim: 'protected',
    deadlineMs: rolloutDeadlineMs,
    rollBack: true,
  }),
  release('crash-looping release', '2.4.8-crashloop', {
    claim: 'protected',
    deadlineMs: rolloutDeadlineMs,
    rollBack: true,
  }),
  release('never-ready release', '2.4.8-never-ready', {
    claim: 'protected',
    deadlineMs: stuckDeadlineMs,
    rollBack: true,
  }),
  // Pods are Ready (php-fpm's ping answers) while every page is a 500: nothing stops the rollout today.
  release('storefront-500 release', '2.4.8-storefront-500', {
    claim: 'recorded',
    deadlineMs: rolloutDeadlineMs,
    rollBack: false,
  }),
  webPodDeleted,
  nodeDrained,
  consumersScaledDown,
  consumerKilled,
  // Appended, so the `--only N` numbers above stay as the README cites them.
  releaseByRollout('storefront-500 release, rollout function (preview)', '2.4.8-storefront-500', 'protected'),
  releaseByRollout('good release, rollout function', '2.4.8', 'protected'),
  releaseByRollout('crash-looping release, rollout function', '2.4.8-crashloop', 'protected'),
];
