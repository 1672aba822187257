import { describe, expect, it } from 'vitest';
import { ConsumerPods } from '../../../scripts/demo/burst/consumerPods.ts';

/** The shop database as the stand-in's consumers leave it: rows of m2_consumed_message. */
function consumedTable(rows: { id: string; host: string; body: string; deliveries: number }[]) {
  const queries: string[] = [];
  // A tiny evaluator of the one query ConsumerPods sends: its LIKE filter on body, its three aggregates.
  const query = (sql: string): string[][] => {
    queries.push(sql);
    const like = /body LIKE '%(.+)%'/.exec(sql)?.[1] ?? '';
    const mine = rows.filter((r) => r.body.includes(like));
    return [
      [
        String(mine.length),
        String(mine.reduce((n, r) => n + r.deliveries - 1, 0)),
        String(new Set(mine.map((r) => r.host)).size),
      ],
    ];
  };
  return { query, queries };
}

describe('ConsumerPods', () => {
  it('counts this burst’s messages only: processed, redelivered, missing and the pods that did them', () => {
    // Prepare
    const table = consumedTable([
      { id: 'a', host: 'pod-1', body: '{"product_ids":[1],"run":"burst-1a2b"}', deliveries: 1 },
      { id: 'b', host: 'pod-2', body: '{"product_ids":[2],"run":"burst-1a2b"}', deliveries: 2 },
      { id: 'c', host: 'pod-3', body: '{"product_ids":[3],"run":"burst-ffff"}', deliveries: 1 },
    ]);
    const pods = new ConsumerPods(table.query, 'burst-1a2b', 'm2-consumer-product-updates');

    // Act
    const deliveries = pods.deliveries(5);

    // Assess
    expect(deliveries).toEqual({ sent: 5, processed: 2, redelivered: 1, missing: 3, pods: 2 });
  });

  it('reads the table at most once a second while the burst ticks every 250 ms', async () => {
    // Prepare
    let now = 0;
    const table = consumedTable([{ id: 'a', host: 'pod-1', body: '{"run":"burst-1"}', deliveries: 1 }]);
    const pods = new ConsumerPods(table.query, 'burst-1', 'm2-consumer-product-updates', () => now);

    // Act
    for (const at of [0, 250, 500, 750, 1000, 1250]) {
      now = at;
      await pods.tick();
    }

    // Assess
    expect(table.queries).toHaveLength(2);
    expect(pods.consumed).toBe(1);
  });

  it.each(["x'; DROP TABLE m2_consumed_message; --", 'Burst-1', ''])('refuses the run id %j', (run) => {
    // Act / Assess
    expect(() => new ConsumerPods(() => [], run, 'd')).toThrow(RangeError);
  });
});
