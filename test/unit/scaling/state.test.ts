import { describe, expect, it } from 'vitest';
import { stateAnnotations } from '../../../lib/scaling/annotations.ts';
import { decideReplicas, defaultPolicySettings, initialState } from '../../../lib/scaling/policy.ts';
import { readState, stateAnnotationsFor, stateChanged } from '../../../lib/scaling/state.ts';

const now = Date.UTC(2026, 10, 28, 6, 0, 0);
const bounds = { messagesPerPod: 20, minReplicas: 0, maxReplicas: 10, cooldownSeconds: 300 };

describe('scaler state annotations', () => {
  it('round-trips a decision through the annotations', () => {
    // Prepare
    const decision = decideReplicas({
      bounds,
      settings: defaultPolicySettings,
      current: 0,
      reading: { visible: 500, inFlight: 0, delayed: 0 },
      state: initialState,
      now,
    });
    // Act
    const annotations = stateAnnotationsFor(decision, 0, now);
    // Assess
    expect(readState(annotations)).toMatchObject({ kind: 'ok', state: decision.state });
    expect(annotations[stateAnnotations.lastScale]).toBe('2026-11-28T06:00:00.000Z 0→10');
    expect(annotations[stateAnnotations.lastReason]).toContain('scale up 0 → 10');
  });

  it.each([
    ['not JSON', '{'],
    ['of an unknown version', JSON.stringify({ v: 2, emptyReads: 0, busyReads: 0 })],
    ['carrying a negative counter', JSON.stringify({ v: 1, emptyReads: -1, busyReads: 0 })],
    ['carrying unknown fields', JSON.stringify({ v: 1, emptyReads: 0, busyReads: 0, extra: 1 })],
  ])('reports a state annotation %s as malformed', (_name, raw) => {
    expect(readState({ [stateAnnotations.state]: raw }).kind).toBe('malformed');
  });

  it('reports a Deployment without state as absent', () => {
    expect(readState(undefined)).toEqual({ kind: 'absent' });
  });

  it.each([
    ['a counter moved', { emptyReads: 1 }, true],
    ['the last-active time moved by less than the resolution', { lastActiveAt: now + 5_000 }, false],
    ['the last-active time moved by the resolution', { lastActiveAt: now + 15_000 }, true],
    ['only the read time moved', { lastReadAt: now + 10_000 }, false],
    ['the peak rose', { peaks: [{ replicas: 3, at: now }] }, true],
    ['an empty run began', { emptySince: now }, true],
  ])('says a state is worth writing when %s: %s', (_name, change, expected) => {
    const previous = {
      emptyReads: 0,
      busyReads: 2,
      lastActiveAt: now,
      lastReadAt: now,
      peaks: [{ replicas: 2, at: now }],
    };
    expect(stateChanged(previous, { ...previous, ...change })).toBe(expected);
  });
});

describe('stateChanged after a re-decision', () => {
  it('does not ask for a second write when a conflict made the same decision again a moment later', () => {
    const previous = {
      emptyReads: 0,
      busyReads: 1,
      lastActiveAt: now,
      lastReadAt: now,
      lastScaleAt: now,
      peaks: [{ replicas: 4, at: now }],
    };
    expect(
      stateChanged(previous, {
        ...previous,
        lastActiveAt: now + 40,
        lastScaleAt: now + 40,
        peaks: [{ replicas: 4, at: now + 40 }],
      }),
    ).toBe(false);
  });
});
