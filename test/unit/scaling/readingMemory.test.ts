import { describe, expect, it } from 'vitest';
import { defaultPolicySettings, type Peak, type ScalerState } from '../../../lib/scaling/policy.ts';
import { addPeak, countReads, isCounted, rememberReading } from '../../../lib/scaling/readingMemory.ts';

const t0 = Date.UTC(2026, 10, 28, 6, 0, 0);
const s = (seconds: number): number => t0 + seconds * 1000;
const state = (overrides: Partial<ScalerState> = {}): ScalerState => ({
  emptyReads: 0,
  busyReads: 0,
  ...overrides,
});

describe('isCounted', () => {
  it.each<[string, ScalerState, boolean]>([
    ['counts the first reading', state(), true],
    ['counts a reading the spacing after the last', state({ lastReadAt: s(-5) }), true],
    ['counts a reading once within the spacing', state({ lastReadAt: s(-4) }), false],
  ])('%s', (_name, before, counted) => {
    expect(isCounted(before, s(0), defaultPolicySettings)).toBe(counted);
  });
});

describe('countReads', () => {
  it.each<[string, Partial<ScalerState>, boolean, boolean, Pick<ScalerState, 'emptyReads' | 'busyReads'>]>([
    ['counts an empty reading', { emptyReads: 0 }, false, true, { emptyReads: 1, busyReads: 0 }],
    [
      'stops counting empty readings at confirmReads',
      { emptyReads: 2 },
      false,
      true,
      { emptyReads: 2, busyReads: 0 },
    ],
    [
      'does not count an empty reading within the spacing',
      { emptyReads: 1 },
      false,
      false,
      { emptyReads: 1, busyReads: 0 },
    ],
    [
      'resets the empty readings on a busy one',
      { emptyReads: 2 },
      true,
      true,
      { emptyReads: 0, busyReads: 1 },
    ],
    ['counts a busy reading', { busyReads: 1 }, true, true, { emptyReads: 0, busyReads: 2 }],
    [
      'takes a busy reading within the spacing as one',
      { busyReads: 0 },
      true,
      false,
      { emptyReads: 0, busyReads: 1 },
    ],
    [
      'does not add a busy reading within the spacing',
      { busyReads: 1 },
      true,
      false,
      { emptyReads: 0, busyReads: 1 },
    ],
    [
      'resets the busy readings on an empty one',
      { busyReads: 2 },
      false,
      true,
      { emptyReads: 1, busyReads: 0 },
    ],
  ])('%s', (_name, before, busy, counted, after) => {
    expect(countReads(state(before), busy, counted, 2)).toEqual(after);
  });
});

describe('addPeak', () => {
  it.each<[string, Peak[], number, Peak[]]>([
    ['starts the window', [], 3, [{ replicas: 3, at: s(0) }]],
    [
      'keeps a higher peak',
      [{ replicas: 8, at: s(-60) }],
      3,
      [
        { replicas: 8, at: s(-60) },
        { replicas: 3, at: s(0) },
      ],
    ],
    ['drops a lower or equal peak', [{ replicas: 3, at: s(-60) }], 3, [{ replicas: 3, at: s(0) }]],
    ['drops an expired peak', [{ replicas: 8, at: s(-180) }], 3, [{ replicas: 3, at: s(0) }]],
    [
      'keeps the queue monotonic',
      [
        { replicas: 8, at: s(-120) },
        { replicas: 5, at: s(-60) },
      ],
      6,
      [
        { replicas: 8, at: s(-120) },
        { replicas: 6, at: s(0) },
      ],
    ],
  ])('%s', (_name, peaks, replicas, after) => {
    expect(addPeak(peaks, replicas, s(0), 180_000)).toEqual(after);
  });
});

describe('rememberReading', () => {
  it('records activity, the read time and the peak of a busy reading, and keeps the scale time', () => {
    const before = state({ emptyReads: 2, lastReadAt: s(-10), lastActiveAt: s(-400), lastScaleAt: s(-500) });
    expect(rememberReading(before, { busy: true, target: 4 }, s(0), defaultPolicySettings)).toEqual({
      emptyReads: 0,
      busyReads: 1,
      lastActiveAt: s(0),
      peaks: [{ replicas: 4, at: s(0) }],
      lastReadAt: s(0),
      lastScaleAt: s(-500),
    });
  });

  it('keeps the last activity and the last counted read time of an empty reading within the spacing', () => {
    const before = state({ emptyReads: 1, lastReadAt: s(-2), lastActiveAt: s(-400) });
    expect(rememberReading(before, { busy: false, target: 0 }, s(0), defaultPolicySettings)).toEqual({
      emptyReads: 1,
      busyReads: 0,
      lastActiveAt: s(-400),
      emptySince: s(0),
      peaks: [{ replicas: 0, at: s(0) }],
      lastReadAt: s(-2),
    });
  });

  it('forgets unreadable readings once the queue is read again', () => {
    const after = rememberReading(
      state({ unreadableReads: 3 }),
      { busy: false, target: 0 },
      s(0),
      defaultPolicySettings,
    );
    expect(after.unreadableReads).toBeUndefined();
  });

  it('keeps the start of the empty run through empty readings and forgets it on a busy one', () => {
    const empty = rememberReading(
      state({ emptySince: s(-30) }),
      { busy: false, target: 0 },
      s(0),
      defaultPolicySettings,
    );
    expect(empty.emptySince).toBe(s(-30));
    const busy = rememberReading(empty, { busy: true, target: 1 }, s(10), defaultPolicySettings);
    expect(busy.emptySince).toBeUndefined();
  });

  it('starts the quiet time at the first reading it sees', () => {
    const after = rememberReading(state(), { busy: false, target: 0 }, s(0), defaultPolicySettings);
    expect(after.lastActiveAt).toBe(s(0));
  });
});
