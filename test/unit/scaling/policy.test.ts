import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Decision,
  type DecisionKind,
  type DecisionRule,
  decideReplicas,
  defaultPolicySettings,
  initialState,
  type PolicyInput,
  type PolicySettings,
  type QueueReading,
  type ScalerState,
} from '../../../lib/scaling/policy.ts';
import type { ScalingBounds } from '../../../lib/scaling/target.ts';

const t0 = Date.UTC(2026, 10, 28, 6, 0, 0);
const s = (seconds: number): number => t0 + seconds * 1000;
const bounds: ScalingBounds = {
  messagesPerPod: 20,
  minReplicas: 0,
  maxReplicas: 10,
  cooldownSeconds: 300,
  secondsPerMessage: 0.5,
};
const read = (visible: number, inFlight = 0, extra: Partial<QueueReading> = {}): QueueReading => ({
  visible,
  inFlight,
  delayed: 0,
  ...extra,
});
const fallbackBounds: ScalingBounds = { ...bounds, fallback: { replicas: 3, afterReads: 3 } };
const decide = (overrides: Partial<PolicyInput>): Decision =>
  decideReplicas({
    bounds,
    settings: defaultPolicySettings,
    current: 0,
    reading: read(0),
    state: initialState,
    now: s(0),
    ...overrides,
  });

const quiet: ScalerState = {
  emptyReads: 1,
  busyReads: 0,
  lastReadAt: s(-10),
  lastActiveAt: s(-400),
  emptySince: s(-390),
};

describe('decideReplicas', () => {
  it.each<[string, Partial<PolicyInput>, number, DecisionKind, DecisionRule]>([
    ['jumps straight to the target on a burst', { reading: read(10_000) }, 10, 'up', 'scale-up'],
    [
      'jumps straight to an unclamped target',
      { reading: read(10_000), bounds: { ...bounds, messagesPerPod: 50, maxReplicas: 300 } },
      200,
      'up',
      'scale-up',
    ],
    [
      'waits for a second reading before starting from zero on a small backlog',
      { reading: read(3) },
      0,
      'hold',
      'awaiting-confirmation',
    ],
    [
      'starts from zero on the second consistent reading of a small backlog',
      { reading: read(3), state: { emptyReads: 0, busyReads: 1, lastReadAt: s(-10), lastActiveAt: s(-10) } },
      1,
      'up',
      'scale-up',
    ],
    ['starts at once for a message in flight', { reading: read(0, 1) }, 1, 'up', 'scale-up'],
    [
      'keeps one pod for a message in flight after the window',
      {
        current: 4,
        reading: read(0, 1),
        state: { ...quiet, emptyReads: 0, peaks: [{ replicas: 4, at: s(-600) }] },
      },
      1,
      'down',
      'scale-down',
    ],
    [
      'holds one pod after a single empty reading',
      { current: 1, state: { ...quiet, emptyReads: 0 } },
      1,
      'hold',
      'zero-unconfirmed',
    ],
    [
      'scales to zero after two empty readings and the cooldown',
      { current: 1, state: quiet },
      0,
      'down',
      'zero-idle',
    ],
    [
      'counts readings closer than the spacing once',
      { current: 1, state: { ...quiet, lastReadAt: s(-2) } },
      1,
      'hold',
      'zero-unconfirmed',
    ],
    [
      'holds one pod until the cooldown has passed',
      { current: 1, state: { ...quiet, lastActiveAt: s(-100), emptySince: s(-90) } },
      1,
      'hold',
      'zero-cooling-down',
    ],
    [
      'holds one pod with no cooldown until the queue has read empty for the settle window',
      {
        current: 1,
        bounds: { ...bounds, cooldownSeconds: 0 },
        state: { ...quiet, lastReadAt: s(-5), lastActiveAt: s(-5), emptySince: s(-5) },
      },
      1,
      'hold',
      'zero-settling',
    ],
    [
      'goes to zero with no cooldown once the queue has read empty for the settle window',
      {
        current: 1,
        bounds: { ...bounds, cooldownSeconds: 0 },
        state: { ...quiet, lastReadAt: s(-5), lastActiveAt: s(-61), emptySince: s(-60) },
      },
      0,
      'down',
      'zero-idle',
    ],
    [
      'starts the settle window now for a state written before it existed',
      { current: 1, state: { emptyReads: 1, busyReads: 0, lastReadAt: s(-10), lastActiveAt: s(-400) } },
      1,
      'hold',
      'zero-settling',
    ],
    [
      'never scales to zero while messages arrive',
      { current: 1, reading: read(0, 0, { arrivalsPerSecond: 0.01 }), state: quiet },
      1,
      'hold',
      'at-target',
    ],
    ['holds when the queue cannot be read', { current: 6, reading: undefined }, 6, 'hold', 'unreadable'],
    [
      'holds at zero before the declared unreadable readings',
      {
        current: 0,
        reading: undefined,
        bounds: fallbackBounds,
        state: { ...initialState, unreadableReads: 1, lastReadAt: s(-10) },
      },
      0,
      'hold',
      'unreadable',
    ],
    [
      'raises to the fallback floor on the declared unreadable reading',
      {
        current: 0,
        reading: undefined,
        bounds: fallbackBounds,
        state: { ...initialState, unreadableReads: 2, lastReadAt: s(-10) },
      },
      3,
      'up',
      'fallback',
    ],
    [
      'does not count an unreadable reading closer than the spacing',
      {
        current: 0,
        reading: undefined,
        bounds: fallbackBounds,
        state: { ...initialState, unreadableReads: 2, lastReadAt: s(-2) },
      },
      0,
      'hold',
      'unreadable',
    ],
    [
      'keeps more replicas than the fallback floor (never down without a reading)',
      {
        current: 7,
        reading: undefined,
        bounds: fallbackBounds,
        state: { ...initialState, unreadableReads: 3, lastReadAt: s(-10) },
      },
      7,
      'hold',
      'fallback',
    ],
    [
      'raises to min even without a reading',
      { current: 0, reading: undefined, bounds: { ...bounds, minReplicas: 2 } },
      2,
      'up',
      'unreadable',
    ],
    [
      "keeps the Little's-law floor on a queue that looks empty",
      { current: 1, reading: read(0, 2, { arrivalsPerSecond: 10 }), state: quiet },
      7,
      'up',
      'scale-up',
    ],
    [
      'holds a scale-down within the window of a higher peak',
      {
        current: 8,
        reading: read(20),
        state: { ...quiet, emptyReads: 0, peaks: [{ replicas: 8, at: s(-60) }] },
      },
      8,
      'hold',
      'window-peak',
    ],
    [
      'scales down once the peak has left the window',
      {
        current: 8,
        reading: read(20),
        state: { ...quiet, emptyReads: 0, peaks: [{ replicas: 8, at: s(-200) }] },
      },
      1,
      'down',
      'scale-down',
    ],
    [
      'adds at most maxSurge per decision when configured',
      { reading: read(10_000), settings: { ...defaultPolicySettings, maxSurge: 4 } },
      4,
      'up',
      'max-surge',
    ],
    [
      'ignores a rise within the tolerance',
      {
        current: 10,
        reading: read(220),
        state: { ...quiet, emptyReads: 0 },
        bounds: { ...bounds, maxReplicas: 20 },
      },
      10,
      'hold',
      'within-tolerance',
    ],
    [
      'ignores a fall within the tolerance once the window has passed',
      {
        current: 11,
        reading: read(181),
        state: { ...quiet, emptyReads: 0, peaks: [{ replicas: 12, at: s(-400) }] },
        bounds: { ...bounds, maxReplicas: 20 },
      },
      11,
      'hold',
      'within-tolerance',
    ],
    [
      'caps the floor at the messages of the measured minute',
      {
        current: 1,
        reading: read(0, 1, { arrivalsPerSecond: 1 / 60 }),
        bounds: { ...bounds, secondsPerMessage: 600 },
      },
      1,
      'hold',
      'at-target',
    ],
    [
      'never goes below min',
      { current: 2, bounds: { ...bounds, minReplicas: 2 }, state: quiet },
      2,
      'hold',
      'at-target',
    ],
    [
      'scales a manual overshoot back to max after the window',
      { current: 30, reading: read(10_000), state: { ...quiet, emptyReads: 0 } },
      10,
      'down',
      'scale-down',
    ],
    [
      'counts delayed messages only when configured',
      {
        reading: read(0, 0, { delayed: 100 }),
        settings: { ...defaultPolicySettings, includeDelayed: true },
      },
      5,
      'up',
      'scale-up',
    ],
  ])('%s', (_name, input, replicas, kind, rule) => {
    // Act
    const decision = decide(input);
    // Assess
    expect(decision).toMatchObject({ replicas, kind, rule });
  });

  it('explains the target and the step in its reason (the last-reason annotation people read)', () => {
    const decision = decide({ reading: read(10_000) });
    expect(decision.reason).toBe(
      'backlog 10000 (visible 10000, in flight 0) / 20 per pod → 500; clamped to 10 (min 0, max 10); scale up 0 → 10',
    );
  });

  it('records the scale time and the peak on a scale-up', () => {
    const decision = decide({ reading: read(10_000), now: s(5) });
    expect(decision.state).toMatchObject({
      lastScaleAt: s(5),
      peaks: [{ replicas: 10, at: s(5) }],
      busyReads: 1,
    });
  });
});

// --- properties -------------------------------------------------------------------------------

const boundsArb: fc.Arbitrary<ScalingBounds> = fc
  .record({
    messagesPerPod: fc.integer({ min: 1, max: 500 }),
    minReplicas: fc.integer({ min: 0, max: 5 }),
    extra: fc.integer({ min: 0, max: 200 }),
    cooldownSeconds: fc.integer({ min: 0, max: 900 }),
    secondsPerMessage: fc.option(fc.double({ min: 0.01, max: 600, noNaN: true }), { nil: undefined }),
  })
  .map(({ extra, minReplicas, secondsPerMessage, ...rest }) => ({
    ...rest,
    minReplicas,
    maxReplicas: Math.max(minReplicas, 1) + extra,
    ...(secondsPerMessage === undefined ? {} : { secondsPerMessage }),
  }));
const readingArb: fc.Arbitrary<QueueReading> = fc.record({
  visible: fc.integer({ min: 0, max: 100_000 }),
  inFlight: fc.integer({ min: 0, max: 1_000 }),
  delayed: fc.integer({ min: 0, max: 1_000 }),
  arrivalsPerSecond: fc.option(fc.double({ min: 0, max: 500, noNaN: true }), { nil: undefined }),
});
const stateArb: fc.Arbitrary<ScalerState> = fc.record(
  {
    lastReadAt: fc.integer({ min: s(-1000), max: s(0) }),
    lastActiveAt: fc.integer({ min: s(-2000), max: s(0) }),
    emptyReads: fc.integer({ min: 0, max: 2 }),
    busyReads: fc.integer({ min: 0, max: 2 }),
    peaks: fc
      .array(
        fc.record({
          replicas: fc.integer({ min: 0, max: 300 }),
          at: fc.integer({ min: s(-1000), max: s(0) }),
        }),
        {
          maxLength: 5,
        },
      )
      .map((entries) =>
        // A well-formed monotonic queue: times ascending, replicas strictly decreasing.
        [...entries]
          .sort((x, y) => x.at - y.at)
          .filter((e, i, all) => all.slice(i + 1).every((later) => later.replicas < e.replicas)),
      ),
    lastScaleAt: fc.integer({ min: s(-2000), max: s(0) }),
  },
  { requiredKeys: ['emptyReads', 'busyReads'] },
);
const settingsArb: fc.Arbitrary<PolicySettings> = fc.record({
  includeDelayed: fc.boolean(),
  scaleDownWindowSeconds: fc.integer({ min: 0, max: 600 }),
  confirmReads: fc.integer({ min: 1, max: 3 }),
  readSpacingSeconds: fc.integer({ min: 0, max: 9 }),
  tolerance: fc.constantFrom(0, 0.1, 0.2),
  floorUtilization: fc.constantFrom(0.5, 0.8, 1),
  zeroSettleSeconds: fc.constantFrom(0, 60),
});
const inputArb = fc.record({
  bounds: boundsArb,
  settings: settingsArb,
  current: fc.integer({ min: 0, max: 300 }),
  reading: readingArb,
  state: stateArb,
  now: fc.constant(s(0)),
});

/** The arrival-rate floor as the README states it. */
const floorOf = (input: PolicyInput): number => {
  const spm = input.bounds.secondsPerMessage;
  const rate = input.reading?.arrivalsPerSecond ?? 0;
  if (spm === undefined) return 0;
  return Math.min(
    Math.ceil((rate * spm) / input.settings.floorUtilization - 1e-9),
    Math.ceil(rate * 60 - 1e-9),
  );
};

describe('decideReplicas properties', () => {
  it('never scales to zero while a message is in flight', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        fc.pre(input.reading.inFlight > 0);
        expect(decideReplicas(input).replicas).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('never scales down without a reading (fail-static)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const decision = decideReplicas({ ...input, reading: undefined });
        expect(decision.replicas).toBeGreaterThanOrEqual(input.current);
        expect(decision.replicas).toBe(Math.max(input.current, input.bounds.minReplicas));
      }),
    );
  });

  it('jumps straight to the target on a burst of more than one pod’s share', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { bounds: b, reading: r } = input;
        const backlog = r.visible + r.inFlight + (input.settings.includeDelayed ? r.delayed : 0);
        const byArrivals = floorOf(input);
        const target = Math.min(
          b.maxReplicas,
          Math.max(b.minReplicas, Math.ceil(backlog / b.messagesPerPod), byArrivals, r.inFlight > 0 ? 1 : 0),
        );
        fc.pre(
          backlog > b.messagesPerPod &&
            target > input.current &&
            (input.current === 0 || target > input.current * (1 + input.settings.tolerance)),
        );
        expect(decideReplicas(input).replicas).toBe(target);
      }),
    );
  });

  it("never goes below the Little's-law floor", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        fc.pre(input.bounds.secondsPerMessage !== undefined);
        const floor = floorOf(input);
        expect(decideReplicas(input).replicas).toBeGreaterThanOrEqual(
          Math.min(input.bounds.maxReplicas, floor),
        );
      }),
    );
  });

  it('never scales to zero on a single empty reading', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        fc.pre(input.current > 0 && input.settings.confirmReads >= 2);
        const decision = decideReplicas({ ...input, state: { ...input.state, emptyReads: 0 } });
        expect(decision.replicas).toBeGreaterThan(0);
      }),
    );
  });

  it('never scales down within the window after a scale-up (hysteresis), over any reading sequence', () => {
    const step = fc.record({
      reading: fc.option(readingArb, { nil: undefined }),
      seconds: fc.integer({ min: 1, max: 90 }),
    });
    fc.assert(
      fc.property(
        boundsArb,
        settingsArb,
        fc.array(step, { minLength: 2, maxLength: 40 }),
        (b, settings, steps) => {
          let state = initialState;
          let current = 1;
          let now = s(0);
          let lastUpAt: number | undefined;
          for (const { reading, seconds } of steps) {
            now += seconds * 1000;
            const decision = decideReplicas({ bounds: b, settings, current, reading, state, now });
            if (decision.replicas < current && lastUpAt !== undefined) {
              expect(now - lastUpAt).toBeGreaterThanOrEqual(settings.scaleDownWindowSeconds * 1000);
            }
            if (decision.replicas > current && reading !== undefined) lastUpAt = now;
            if (decision.replicas === 0 && current > 0) {
              // Lag-robustness: zero needs `confirmReads` counted empty readings.
              expect(decision.state.emptyReads).toBeGreaterThanOrEqual(settings.confirmReads);
            }
            state = decision.state;
            current = decision.replicas;
          }
        },
      ),
    );
  });

  it('re-deciding on the same reading at the same time changes nothing (idempotent under conflicts)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        fc.pre(input.settings.readSpacingSeconds > 0);
        const first = decideReplicas(input);
        const again = decideReplicas({ ...input, current: first.replicas, state: first.state });
        expect(again.replicas).toBe(first.replicas);
        expect(again.state.emptyReads).toBe(first.state.emptyReads);
        expect(again.state.busyReads).toBe(first.state.busyReads);
      }),
    );
  });
});
