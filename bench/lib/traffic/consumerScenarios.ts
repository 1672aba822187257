import { setTimeout as sleep } from 'node:timers/promises';
import { accountMessages, type MessageAccount } from './messageLedger.ts';
import type { Scenario, ScenarioVerdict, Stage } from './scenarios.ts';
import { type ShopConsumers, visibilityTimeoutSeconds } from './shopConsumers.ts';

/** Consumer pods at rest: one per real node. */
export const consumerReplicas = 3;
/** How long every message of a run may take to be accounted for after the change. */
const accountDeadlineMs = 240_000;

let runs = 0;
/** A tag no other run's messages carry, so each run counts its own messages only. */
function runTag(what: string): string {
  runs += 1;
  return `${what}-${Date.now().toString(36)}-${runs}`;
}

/**
 * Polls until every message sent is processed and logged as deleted, and the queue is empty; on the
 * deadline, the account as it stands (its `pending` and `lost` say what is missing). The account and
 * the check read one snapshot of the logs: a line arriving between two reads would count as missing.
 */
async function settled(
  consumers: ShopConsumers,
  run: string,
  sent: readonly string[],
): Promise<{ account: MessageAccount; complete: boolean }> {
  const deadline = Date.now() + accountDeadlineMs;
  for (;;) {
    const logged = consumers.logged();
    const now = accountMessages({
      sent,
      recorded: consumers.recorded(run),
      logged,
      queued: await consumers.queued(),
    });
    const loggedIds = new Set(logged.map((m) => m.id));
    const complete = now.processed === now.sent && now.pending === 0 && sent.every((id) => loggedIds.has(id));
    if (complete || Date.now() > deadline) return { account: now, complete };
    await sleep(1_000);
  }
}

/** Polls until each of `count` distinct pods recorded at least one of `run`'s messages: all mid-batch. */
async function busyPods(consumers: ShopConsumers, run: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const hosts = [...new Set(consumers.recorded(run).map((m) => m.host))];
    if (hosts.length >= count) return hosts;
    await sleep(250);
  }
  throw new Error(`${run}: fewer than ${count} consumer pods started on the batch within 120 s`);
}

function verdictOf(
  settledAt: { account: MessageAccount; complete: boolean },
  verdictMs: number,
): ScenarioVerdict {
  const a = settledAt.account;
  const verdict = settledAt.complete
    ? `all ${a.sent} processed${a.duplicated > 0 ? `, ${a.duplicated} twice` : ''}`
    : `deadline: ${a.lost} lost, ${a.pending} still queued`;
  return { verdict, verdictMs, messages: a };
}

const restoreConsumers = async (stage: Stage): Promise<void> => {
  await stage.consumers.scale(consumerReplicas);
  await stage.consumers.waitAtRest(consumerReplicas);
};

/**
 * consumerScaler lowers the replicas while every pod is in the middle of a batch (3 → 1). The pods
 * removed run the preStop drain (consumer-drain.sh: no new batch, wait for the running one), and
 * their PHP children finish and acknowledge their messages within the grace period; the one pod left
 * takes the rest. Claim: every message processed exactly once.
 */
export const consumersScaledDown: Scenario = {
  name: 'consumers scaled down mid-batch',
  tier: 'consumers',
  claim: 'protected',
  maxLoadSeconds: 330,
  async run(stage) {
    const { consumers } = stage;
    await consumers.waitAtRest(consumerReplicas);
    const run = runTag('scale-down');
    // 30 messages of 1 s: each pod is in a batch of up to 10 (--max-messages) when the scale-down comes.
    const sent = await consumers.send(run, 30, 1_000);
    stage.mark(`sent ${sent.length} messages`);
    await busyPods(consumers, run, consumerReplicas);
    const t0 = stage.elapsedMs();
    stage.mark('scale 3 → 1');
    await consumers.scale(1);
    const result = await settled(consumers, run, sent);
    const verdictMs = stage.elapsedMs() - t0;
    stage.mark('messages accounted for');
    return verdictOf(result, verdictMs);
  },
  restore: restoreConsumers,
};

/**
 * A consumer pod whose batch outlasts its grace period: deleted with a grace period of 3 s while its
 * messages take 3 s each, so the kubelet SIGKILLs the PHP child with a message in hand. The
 * stand-in, like Magento, acknowledges a message only after its work: the message stays in the queue,
 * invisible for the visibility timeout, and another pod processes it then — or twice, if the kill
 * fell between the work and the DeleteMessage. Recorded, not claimed: the manifests size the grace
 * period above the worst-case batch so that this does not happen.
 */
export const consumerKilled: Scenario = {
  name: 'consumer pod killed past its grace period',
  tier: 'consumers',
  claim: 'recorded',
  maxLoadSeconds: 330,
  async run(stage) {
    const { consumers } = stage;
    await consumers.waitAtRest(consumerReplicas);
    const run = runTag('kill');
    const sent = await consumers.send(run, 30, 3_000);
    stage.mark(`sent ${sent.length} messages`);
    const [victim = ''] = await busyPods(consumers, run, 1);
    const t0 = stage.elapsedMs();
    stage.mark(`delete ${victim} with a 3 s grace period`);
    await stage.cluster.core.deleteNamespacedPod({
      namespace: stage.namespace,
      name: victim,
      gracePeriodSeconds: 3,
    });
    const result = await settled(consumers, run, sent);
    const verdictMs = stage.elapsedMs() - t0;
    stage.mark(`messages accounted for (visibility timeout ${visibilityTimeoutSeconds} s)`);
    return verdictOf(result, verdictMs);
  },
  restore: restoreConsumers,
};
