import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backlogShares, type Consumer } from '../../../lib/scaling/backlogShare.ts';

const consumer = (messagesPerPod: number, maxReplicas: number): Consumer => ({
  bounds: { messagesPerPod, maxReplicas },
});

describe('backlogShares', () => {
  it.each<[string, Consumer[], number, number[]]>([
    ['gives a lone consumer the whole queue', [consumer(25, 10)], 1000, [1]],
    ['splits equally between equal consumers', [consumer(25, 10), consumer(25, 10)], 100, [0.5, 0.5]],
    [
      'splits equally in messages whatever the messages per pod',
      [consumer(10, 100), consumer(50, 100)],
      200,
      [0.5, 0.5],
    ],
    // 1000 messages: the first can hold 2 × 25 = 50, the others share the remaining 950.
    [
      'gives what a capped consumer cannot hold to the others',
      [consumer(25, 2), consumer(25, 100), consumer(25, 100)],
      1000,
      [0.05, 0.475, 0.475],
    ],
    [
      // They can hold 10 and 20; the 70 beyond are split equally on top (both end at their max).
      'splits what none can hold equally on top',
      [consumer(10, 1), consumer(10, 2)],
      100,
      [0.45, 0.55],
    ],
    [
      'splits an empty queue equally (arrivals still count)',
      [consumer(25, 10), consumer(25, 10), consumer(25, 10)],
      0,
      [1 / 3, 1 / 3, 1 / 3],
    ],
    ['has nothing to split among no consumers', [], 100, []],
  ])('%s', (_name, consumers, backlog, shares) => {
    const result = backlogShares(consumers, backlog);
    expect(result).toHaveLength(shares.length);
    result.forEach((share, i) => {
      expect(share).toBeCloseTo(shares[i] ?? Number.NaN, 9);
    });
  });

  it('shares the whole backlog, and more than a consumer can hold only when all are full', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ mpp: fc.integer({ min: 1, max: 500 }), max: fc.integer({ min: 1, max: 100 }) }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        fc.integer({ min: 1, max: 1_000_000 }),
        (specs, backlog) => {
          const consumers = specs.map((c) => consumer(c.mpp, c.max));
          const shares = backlogShares(consumers, backlog);
          const capacity = specs.map((c) => c.mpp * c.max);
          const total = capacity.reduce((a, b) => a + b, 0);
          shares.forEach((share, i) => {
            const held = share * backlog;
            if (backlog <= total) expect(held).toBeLessThanOrEqual((capacity[i] ?? 0) * (1 + 1e-9));
            else expect(held).toBeGreaterThanOrEqual((capacity[i] ?? 0) * (1 - 1e-9));
          });
          expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        },
      ),
    );
  });
});
