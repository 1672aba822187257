import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { decideReplicas, defaultPolicySettings, initialState } from '../../../lib/scaling/policy.ts';
import type { QueueDepth, QueueSignals } from '../../../lib/scaling/queueSignals.ts';
import type { PassResult } from '../../../lib/scaling/reconcilePass.ts';
import { type RunSettings, runScaler } from '../../../lib/scaling/runScaler.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-export';
const settings: RunSettings = {
  selector: 'scaling.m2-eks-pipeline.io/enabled=true',
  policy: defaultPolicySettings,
  intervalMs: 10_000,
  passBudgetMs: 10_000,
  maxRunMs: 58_000,
  idlePollMs: 3000,
};

const bounds = { messagesPerPod: 20, minReplicas: 0, maxReplicas: 10, cooldownSeconds: 300 };
const passWith = (visible: number, from: number): PassResult => {
  const decision = decideReplicas({
    bounds,
    settings: defaultPolicySettings,
    current: from,
    reading: { visible, inFlight: 0, delayed: 0 },
    state: { ...initialState, lastActiveAt: 0, emptyReads: 2, lastReadAt: 0 },
    now: 1_000_000,
  });
  return {
    targets: 1,
    outcomes: [
      { namespace: 'shop-a', deployment: 'consumer', from, to: decision.replicas, decision, conflicts: 0 },
    ],
    failures: [],
    active: decision.active,
    queueUrls: [queueUrl],
  };
};
/** A pass that is waiting for a second reading: active, nothing changed. */
const awaitingConfirmation: PassResult = { ...passWith(500, 10), active: true };
const empty: QueueDepth = { visible: 0, inFlight: 0, delayed: 0 };

/**
 * A run whose passes return the given results in turn, on a clock that sleeping advances; the idle
 * watch reads `depthAt(seconds)` (a thrown error is a failed read).
 */
function harness(
  passes: PassResult[],
  options: {
    remainingMs?: number;
    overrides?: Partial<RunSettings>;
    depthAt?: (seconds: number) => QueueDepth;
  } = {},
) {
  let now = 0;
  const passTimes: number[] = [];
  const telemetry = recordingTelemetry();
  const remainingMs = options.remainingMs ?? 70_000;
  // The passes are stubbed: only the idle watch reads depths; CloudWatch is never asked.
  const signals: QueueSignals = {
    readDepth: async () => (options.depthAt ?? (() => empty))(now / 1000),
    readQueueMetrics: async () => new Map(),
  };
  const run = runScaler(
    { ...settings, ...options.overrides },
    {
      cluster: new FakeCluster(),
      signals,
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now: () => now }),
      now: () => now,
      remainingMs: () => remainingMs - now,
      sleep: async (ms) => {
        now += ms;
      },
      pass: async () => {
        const result = passes[Math.min(passTimes.length, passes.length - 1)];
        passTimes.push(now / 1000);
        if (result === undefined) throw new Error('no pass result');
        return result;
      },
    },
  );
  return { run, passTimes };
}

describe('runScaler', () => {
  it('stops after one pass when everything is settled and the idle watch is off', async () => {
    const { run, passTimes } = harness([passWith(0, 0)], { overrides: { idlePollMs: 0 } });
    await expect(run).resolves.toMatchObject({
      passes: 1,
      stoppedBecause: 'idle',
      changes: [],
      idleReads: 0,
    });
    expect(passTimes).toEqual([0]);
  });

  it('keeps reconciling every interval while a queue has work, until the minute is used up', async () => {
    const { run, passTimes } = harness([passWith(500, 0), passWith(500, 10)]);
    await expect(run).resolves.toMatchObject({
      passes: 6,
      stoppedBecause: 'time',
      changes: [{ namespace: 'shop-a', deployment: 'consumer', from: 0, to: 10 }],
    });
    // A seventh pass would start at 60 s, past SCALER_MAX_RUN_SECONDS: the next schedule's invocation runs it.
    expect(passTimes).toEqual([0, 10, 20, 30, 40, 50]);
  });

  it('stops when the Lambda has less time left than a pause and a pass', async () => {
    const { run } = harness([passWith(500, 0)], { remainingMs: 15_000 });
    await expect(run).resolves.toMatchObject({ passes: 1, stoppedBecause: 'time' });
  });

  it('watches the queues of a settled shop for the rest of its minute without another pass', async () => {
    const { run, passTimes } = harness([passWith(0, 0)]);
    // Reads at 3, 6, …, 57 s: one more would start at 60 s, when the next schedule's invocation starts.
    await expect(run).resolves.toMatchObject({ passes: 1, stoppedBecause: 'idle', idleReads: 19 });
    expect(passTimes).toEqual([0]);
  });

  it('reconciles at the first idle read that sees work', async () => {
    const { run, passTimes } = harness([passWith(0, 0), passWith(500, 0), passWith(500, 10)], {
      depthAt: (s) => (s >= 20 ? { visible: 500, inFlight: 0, delayed: 0 } : empty),
    });
    await expect(run).resolves.toMatchObject({
      stoppedBecause: 'time',
      idleReads: 7,
      changes: [{ namespace: 'shop-a', deployment: 'consumer', from: 0, to: 10 }],
    });
    // The read at 21 s sees the burst: a pass at once, then the active cadence.
    expect(passTimes).toEqual([0, 21, 31, 41, 51]);
  });

  it('counts delayed messages as work only when the policy does', async () => {
    const delayed = { visible: 0, inFlight: 0, delayed: 3 };
    const ignored = harness([passWith(0, 0)], { depthAt: () => delayed });
    await expect(ignored.run).resolves.toMatchObject({ passes: 1, idleReads: 19 });
    const counted = harness([passWith(0, 0), passWith(500, 0)], {
      depthAt: () => delayed,
      overrides: { policy: { ...defaultPolicySettings, includeDelayed: true } },
    });
    await counted.run;
    expect(counted.passTimes.slice(0, 2)).toEqual([0, 3]);
  });

  it('takes the confirming reading of a wake-up one read spacing later, not a whole interval', async () => {
    const { run, passTimes } = harness([passWith(0, 0), awaitingConfirmation, passWith(500, 0)], {
      depthAt: (s) => (s >= 5 ? { visible: 2, inFlight: 0, delayed: 0 } : empty),
    });
    await run;
    // Woken at 6 s; the policy counts a second reading 5 s (SCALER_READ_SPACING_SECONDS) after the first.
    expect(passTimes.slice(0, 4)).toEqual([0, 6, 11, 21]);
  });

  it('skips a failed idle read instead of waking, and keeps watching', async () => {
    const { run, passTimes } = harness([passWith(0, 0), passWith(500, 0)], {
      depthAt: (s) => {
        if (s < 10) throw new Error('throttled');
        return s >= 30 ? { visible: 9, inFlight: 0, delayed: 0 } : empty;
      },
    });
    await run;
    expect(passTimes.slice(0, 2)).toEqual([0, 30]);
  });
});
