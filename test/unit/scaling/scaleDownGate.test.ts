import { describe, expect, it } from 'vitest';
import {
  gateScaleDown,
  gateScaleToZero,
  type ScaleDownInput,
  type ScaleDownVerdict,
  type ZeroInput,
  type ZeroVerdict,
} from '../../../lib/scaling/scaleDownGate.ts';

describe('gateScaleToZero', () => {
  const input = (overrides: Partial<ZeroInput>): ZeroInput => ({
    emptyReads: 2,
    quietSeconds: 300,
    emptySeconds: 300,
    confirmReads: 2,
    zeroSettleSeconds: 60,
    cooldownSeconds: 300,
    ...overrides,
  });

  it.each<[string, Partial<ZeroInput>, ZeroVerdict]>([
    ['lets an idle target go to zero', {}, { kind: 'idle', quietSeconds: 300, emptyReads: 2 }],
    ['waits for consistent empty readings', { emptyReads: 1 }, { kind: 'unconfirmed', emptyReads: 1 }],
    [
      'checks the readings before the cooldown',
      { emptyReads: 0, quietSeconds: 0 },
      { kind: 'unconfirmed', emptyReads: 0 },
    ],
    ['waits for the cooldown', { quietSeconds: 299 }, { kind: 'cooling-down', quietSeconds: 299 }],
    [
      'needs no cooldown wait with no cooldown once the counts have settled',
      { quietSeconds: 60, emptySeconds: 60, cooldownSeconds: 0 },
      { kind: 'idle', quietSeconds: 60, emptyReads: 2 },
    ],
    [
      'waits for the settle window with no cooldown (two readings 5 s apart prove nothing)',
      { quietSeconds: 5, emptySeconds: 5, cooldownSeconds: 0 },
      { kind: 'settling', emptySeconds: 5 },
    ],
    [
      'waits for the settle window after a long quiet spell first read now',
      { quietSeconds: 3600, emptySeconds: 59 },
      { kind: 'settling', emptySeconds: 59 },
    ],
    [
      'checks the readings before the settle window',
      { emptyReads: 1, emptySeconds: 0 },
      { kind: 'unconfirmed', emptyReads: 1 },
    ],
  ])('%s', (_name, overrides, verdict) => {
    expect(gateScaleToZero(input(overrides))).toEqual(verdict);
  });
});

describe('gateScaleDown', () => {
  const input = (overrides: Partial<ScaleDownInput>): ScaleDownInput => ({
    current: 8,
    target: 1,
    peak: 1,
    emptyReads: 2,
    quietSeconds: 600,
    emptySeconds: 600,
    cooldownSeconds: 300,
    settings: { confirmReads: 2, tolerance: 0.1, zeroSettleSeconds: 60 },
    ...overrides,
  });

  it.each<[string, Partial<ScaleDownInput>, ScaleDownVerdict]>([
    ['goes down to the target', {}, { kind: 'down', replicas: 1 }],
    [
      'holds while a peak as high as the replicas is in the window',
      { peak: 8 },
      { kind: 'held-by-peak', peak: 8 },
    ],
    [
      'holds while a peak above the replicas is in the window',
      { peak: 12 },
      { kind: 'held-by-peak', peak: 12 },
    ],
    ['goes down only to a lower peak of the window', { peak: 4 }, { kind: 'down', replicas: 4 }],
    [
      'ignores a fall within the tolerance',
      { current: 11, target: 10, peak: 10 },
      { kind: 'within-tolerance', stabilized: 10 },
    ],
    [
      'follows a fall beyond the tolerance',
      { current: 11, target: 9, peak: 9 },
      { kind: 'down', replicas: 9 },
    ],
    [
      'goes to zero when the zero gate allows',
      { current: 3, target: 0, peak: 0 },
      { kind: 'down', replicas: 0, zero: { kind: 'idle', quietSeconds: 600, emptyReads: 2 } },
    ],
    [
      'keeps one pod while the empty readings are unconfirmed',
      { current: 3, target: 0, peak: 0, emptyReads: 1 },
      { kind: 'down', replicas: 1, zero: { kind: 'unconfirmed', emptyReads: 1 } },
    ],
    [
      'keeps one pod during the cooldown',
      { current: 3, target: 0, peak: 0, quietSeconds: 10 },
      { kind: 'down', replicas: 1, zero: { kind: 'cooling-down', quietSeconds: 10 } },
    ],
    [
      'holds the last pod while the counts settle',
      { current: 1, target: 0, peak: 0, emptySeconds: 30 },
      { kind: 'held-for-zero', zero: { kind: 'settling', emptySeconds: 30 } },
    ],
    [
      'holds the last pod during the cooldown',
      { current: 1, target: 0, peak: 0, quietSeconds: 10 },
      { kind: 'held-for-zero', zero: { kind: 'cooling-down', quietSeconds: 10 } },
    ],
    [
      'never applies the tolerance to zero',
      {
        current: 1,
        target: 0,
        peak: 0,
        settings: { confirmReads: 2, tolerance: 0.5, zeroSettleSeconds: 60 },
      },
      { kind: 'down', replicas: 0, zero: { kind: 'idle', quietSeconds: 600, emptyReads: 2 } },
    ],
  ])('%s', (_name, overrides, verdict) => {
    expect(gateScaleDown(input(overrides))).toEqual(verdict);
  });
});
