import { describe, expect, it } from 'vitest';
import {
  type FinishedRelease,
  finishedOutcome,
  parseFinishedReleases,
  type ReleaseOutcome,
  withFinishedRelease,
} from '../../../lib/rollout/releaseHistory.ts';

describe('parseFinishedReleases', () => {
  it.each<[string, string | undefined, FinishedRelease[]]>([
    ['no annotation', undefined, []],
    ['an empty list', '[]', []],
    [
      'two verdicts',
      '[["b","succeeded"],["a","failed"]]',
      [
        ['b', 'succeeded'],
        ['a', 'failed'],
      ],
    ],
    ['malformed JSON', '[["a","succeeded"', []],
    ['an object instead of a list', '{"a":"succeeded"}', []],
    ['an unknown outcome (dropped)', '[["a","rolled-back"],["b","succeeded"]]', [['b', 'succeeded']]],
    ['a non-string release (dropped)', '[[42,"failed"],["b","failed"]]', [['b', 'failed']]],
    ['a bare string entry (dropped)', '["a",["b","succeeded"]]', [['b', 'succeeded']]],
  ])('reads %s', (_case, raw, expected) => {
    expect(parseFinishedReleases(raw)).toEqual(expected);
  });
});

describe('withFinishedRelease', () => {
  it.each<[string, FinishedRelease[], string, ReleaseOutcome, number, FinishedRelease[]]>([
    ['adds to an empty list', [], 'a', 'succeeded', 50, [['a', 'succeeded']]],
    [
      'puts the newest first',
      [['a', 'failed']],
      'b',
      'succeeded',
      50,
      [
        ['b', 'succeeded'],
        ['a', 'failed'],
      ],
    ],
    [
      'replaces an earlier verdict of the same release',
      [
        ['b', 'succeeded'],
        ['a', 'failed'],
      ],
      'a',
      'succeeded',
      50,
      [
        ['a', 'succeeded'],
        ['b', 'succeeded'],
      ],
    ],
    [
      'forgets the oldest beyond the limit',
      [
        ['c', 'succeeded'],
        ['b', 'succeeded'],
        ['a', 'failed'],
      ],
      'd',
      'failed',
      3,
      [
        ['d', 'failed'],
        ['c', 'succeeded'],
        ['b', 'succeeded'],
      ],
    ],
  ])('%s', (_case, list, release, outcome, max, expected) => {
    expect(withFinishedRelease(list, release, outcome, max)).toEqual(expected);
  });

  it('keeps 50 verdicts by default', () => {
    const list = Array.from({ length: 60 }, (_, i): FinishedRelease => [`r${i}`, 'succeeded']);
    expect(withFinishedRelease(list, 'new', 'failed')).toHaveLength(50);
  });
});

describe('finishedOutcome', () => {
  const list: FinishedRelease[] = [
    ['newer', 'succeeded'],
    ['older', 'succeeded'],
    ['broken', 'failed'],
  ];

  it.each<[string, ReleaseOutcome | undefined]>([
    ['newer', 'succeeded'],
    ['older', 'succeeded'],
    ['broken', 'failed'],
    ['running-now', undefined],
    ['', undefined],
  ])('knows the verdict of %j: %s', (release, expected) => {
    expect(finishedOutcome(list, release)).toBe(expected);
  });
});
