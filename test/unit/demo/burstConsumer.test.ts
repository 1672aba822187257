import { describe, expect, it } from 'vitest';
import { SimulatedConsumer } from '../../../scripts/demo/burst/consumer.ts';
import type { ConsumerQueue, ReceivedMessage } from '../../../scripts/demo/burst/queue.ts';

/** An in-memory queue with SQS's receive/delete semantics (enough for the consumer). */
class FakeQueue implements ConsumerQueue {
  visible: number;
  readonly inFlight = new Set<string>();
  receives = 0;
  #next = 0;
  failDeletes = 0;

  constructor(messages: number) {
    this.visible = messages;
  }

  async receive(max: number): Promise<readonly ReceivedMessage[]> {
    this.receives++;
    expect(max).toBeLessThanOrEqual(10);
    const n = Math.min(max, this.visible);
    this.visible -= n;
    return Array.from({ length: n }, (_, i) => {
      const handle = `h${this.#next++}`;
      this.inFlight.add(handle);
      return { Id: `m${i}`, ReceiptHandle: handle };
    });
  }

  async delete(messages: readonly ReceivedMessage[]): Promise<number> {
    if (this.failDeletes > 0) {
      this.failDeletes--;
      throw new Error('throttled');
    }
    for (const m of messages) this.inFlight.delete(m.ReceiptHandle);
    return messages.length;
  }
}

function consumerOn(queue: FakeQueue, ratePerReadyPod = 7, processingMs = 1000) {
  let now = 0;
  const consumer = new SimulatedConsumer(queue, { ratePerReadyPod, processingMs, now: () => now });
  return { consumer, advance: (ms: number) => (now += ms) };
}

describe('SimulatedConsumer', () => {
  it('takes nothing on its first tick (no elapsed time yet) and nothing without Ready pods', async () => {
    // Prepare
    const queue = new FakeQueue(100);
    const { consumer, advance } = consumerOn(queue);

    // Act
    await consumer.tick(10);
    advance(250);
    await consumer.tick(0);

    // Assess
    expect(queue.visible).toBe(100);
    expect(queue.receives).toBe(0);
  });

  it('receives Ready pods × rate per second and deletes each batch after the processing time', async () => {
    // Prepare
    const queue = new FakeQueue(10_000);
    const { consumer, advance } = consumerOn(queue);
    await consumer.tick(10);

    // Act: one second in four ticks
    for (let i = 0; i < 4; i++) {
      advance(250);
      await consumer.tick(10);
    }

    // Assess: 70 received, none processed yet (the first batch is due 1 s after its tick)
    expect(10_000 - queue.visible).toBe(70);
    expect(queue.inFlight.size).toBe(70);
    expect(consumer.processing).toBe(70);
    expect(consumer.consumed).toBe(0);

    // Act: the next tick is 1 s after the first batch
    advance(250);
    await consumer.tick(10);

    // Assess
    expect(consumer.consumed).toBe(17);
    expect(queue.inFlight.size).toBe(70 + 17 - 17);
  });

  it('drains a queue at the modelled rate and finishes what is in flight', async () => {
    // Prepare
    const queue = new FakeQueue(1000);
    const { consumer, advance } = consumerOn(queue, 7);
    await consumer.tick(10);
    let ms = 0;

    // Act
    while (queue.visible > 0) {
      advance(250);
      ms += 250;
      await consumer.tick(10);
    }
    await consumer.finish();

    // Assess: 1000 messages at 70/s take about 14.3 s
    expect(ms / 1000).toBeCloseTo(1000 / 70, 0);
    expect(consumer.consumed).toBe(1000);
    expect(queue.inFlight.size).toBe(0);
  });

  it('keeps a batch whose delete failed and deletes it on a later tick', async () => {
    // Prepare
    const queue = new FakeQueue(100);
    const { consumer, advance } = consumerOn(queue, 4, 0);
    await consumer.tick(1);
    advance(1000);
    queue.failDeletes = 1;

    // Act
    await expect(consumer.tick(1)).rejects.toThrow('throttled');
    await consumer.tick(0);

    // Assess
    expect(consumer.consumed).toBe(4);
    expect(queue.inFlight.size).toBe(0);
  });

  it('does not bank the share an empty queue could not fill', async () => {
    // Prepare
    const queue = new FakeQueue(5);
    const { consumer, advance } = consumerOn(queue, 100, 0);
    await consumer.tick(1);

    // Act: a share of 100 meets 5 messages; then 20 arrive and a tick's share is 25
    advance(1000);
    await consumer.tick(1);
    queue.visible += 20;
    advance(250);
    await consumer.tick(1);

    // Assess
    expect(queue.visible).toBe(0);
    expect(consumer.consumed).toBe(25);
  });
});
