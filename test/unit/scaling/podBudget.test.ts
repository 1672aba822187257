import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BudgetClaim, divideBudget } from '../../../lib/scaling/podBudget.ts';

const claim = (priority: number, want: number): BudgetClaim => ({ priority, want });

describe('divideBudget', () => {
  it.each<[string, number, BudgetClaim[], number[]]>([
    ['grants every want that fits', 30, [claim(0, 20), claim(0, 5)], [20, 5]],
    ['serves the higher priority first, the rest to the import', 12, [claim(10, 4), claim(0, 20)], [4, 8]],
    ['gives a lower level nothing once a higher one fills the budget', 6, [claim(0, 5), claim(5, 8)], [0, 6]],
    ['shares a level that does not fit in proportion to its wants', 10, [claim(1, 15), claim(1, 5)], [8, 2]],
    ['hands the spare pod to the larger remainder', 4, [claim(0, 2), claim(0, 3), claim(0, 5)], [1, 1, 2]],
    ['breaks an equal remainder towards the earlier claim', 3, [claim(0, 2), claim(0, 2)], [2, 1]],
    ['grants nothing on a zero budget', 0, [claim(3, 2), claim(0, 1)], [0, 0]],
    ['serves three levels in order', 9, [claim(0, 10), claim(2, 3), claim(1, 4)], [2, 3, 4]],
    ['grants nothing to a claim that wants nothing', 4, [claim(0, 0), claim(0, 8)], [0, 4]],
  ])('%s', (_name, budget, claims, grants) => {
    expect(divideBudget(budget, claims)).toEqual(grants);
  });

  it('never grants more than wanted nor more than the budget, and uses the budget while wants remain', () => {
    const claims = fc.array(
      fc.record({ priority: fc.integer({ min: 0, max: 3 }), want: fc.integer({ min: 0, max: 50 }) }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), claims, (budget, cs) => {
        const grants = divideBudget(budget, cs);
        const granted = grants.reduce((a, b) => a + b, 0);
        const wanted = cs.reduce((a, c) => a + c.want, 0);
        expect(grants.every((g, i) => g >= 0 && g <= (cs[i]?.want ?? 0))).toBe(true);
        expect(granted).toBe(Math.min(budget, wanted));
        // Strict priority: a claim short of its want means no lower priority got anything.
        cs.forEach((c, i) => {
          if ((grants[i] ?? 0) < c.want) {
            cs.forEach((d, j) => {
              if (d.priority < c.priority) expect(grants[j]).toBe(0);
            });
          }
        });
      }),
    );
  });
});
