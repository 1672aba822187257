import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../lib/scaling/eventRecorder.ts';
import { decideReplicas, defaultPolicySettings, initialState } from '../../../lib/scaling/policy.ts';
import type { PassResult } from '../../../lib/scaling/reconcilePass.ts';
import { type RunSettings, runScaler } from '../../../lib/scaling/runScaler.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const settings: RunSettings = {
  selector: 'scaling.m2-eks-pipeline.io/enabled=true',
  policy: defaultPolicySettings,
  intervalMs: 10_000,
  passBudgetMs: 10_000,
  maxRunMs: 50_000,
  pollWhenIdle: false,
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
  };
};

/** A run whose passes return the given results in turn, on a clock that sleeping advances. */
function harness(passes: PassResult[], remainingMs = 60_000, overrides: Partial<RunSettings> = {}) {
  let now = 0;
  let calls = 0;
  const telemetry = recordingTelemetry();
  const run = runScaler(
    { ...settings, ...overrides },
    {
      cluster: new FakeCluster(),
      signals: {
        readDepth: () => Promise.reject(new Error('unused')),
        readQueueMetrics: () => Promise.resolve(new Map()),
      },
      log: telemetry.log,
      metrics: telemetry.metrics,
      events: new EventRecorder({ now: () => now }),
      now: () => now,
      remainingMs: () => remainingMs - now,
      sleep: async (ms) => {
        now += ms;
      },
      pass: async () => {
        const result = passes[Math.min(calls, passes.length - 1)];
        calls++;
        if (result === undefined) throw new Error('no pass result');
        return result;
      },
    },
  );
  return { run, calls: () => calls };
}

describe('runScaler', () => {
  it('stops after one pass when everything is settled', async () => {
    const { run, calls } = harness([passWith(0, 0)]);
    await expect(run).resolves.toMatchObject({ passes: 1, stoppedBecause: 'idle', changes: [] });
    expect(calls()).toBe(1);
  });

  it('keeps reconciling every interval while a queue has work, until the run budget is spent', async () => {
    const { run } = harness([passWith(500, 0), passWith(500, 10)]);
    // Passes at 0, 10, 20, 30, 40 s; after the fifth only 10 s of the 50 s run is left, less than a pause and a pass.
    await expect(run).resolves.toMatchObject({
      passes: 5,
      stoppedBecause: 'time',
      changes: [{ namespace: 'shop-a', deployment: 'consumer', from: 0, to: 10 }],
    });
  });

  it('stops when the Lambda has less time left than a pause and a pass', async () => {
    const { run } = harness([passWith(500, 0)], 15_000);
    await expect(run).resolves.toMatchObject({ passes: 1, stoppedBecause: 'time' });
  });

  it('keeps polling when idle if configured to', async () => {
    const { run } = harness([passWith(0, 0)], 60_000, { pollWhenIdle: true });
    await expect(run).resolves.toMatchObject({ passes: 5, stoppedBecause: 'time' });
  });
});
