import type { ScalingBounds } from './target.ts';

/** One of the Deployments consuming a queue, as far as sharing its backlog goes. */
export interface Consumer {
  readonly bounds: Pick<ScalingBounds, 'messagesPerPod' | 'maxReplicas'>;
}

/**
 * The fraction of a queue's backlog (and arrivals) each of its consumer Deployments sizes itself
 * to, in the order given; the fractions sum to 1.
 *
 * SQS hands a message to whichever consumer polls next, with no affinity to a Deployment, so the
 * queue's work is shared among all its pods; sizing every Deployment to the whole backlog would run
 * N× the pods needed. The split is equal in messages — each Deployment holds its share at its own
 * `messages-per-pod` — and water-filled: a Deployment whose `max-replicas` × `messages-per-pod` cannot
 * hold an equal share takes what it can hold and the rest is shared by the others (a backlog beyond
 * what they all can hold is split equally on top: each is then clamped to its max). Not weighted by
 * declared throughput: `seconds-per-message` is optional and, where declared, already shapes each
 * Deployment's pods through its arrival floor; and faster pods simply take more messages from the
 * shared queue. With equal `messages-per-pod`, the Deployments together run at most N − 1 pods more
 * than one Deployment alone would (each rounds its share up).
 *
 * @example backlogShares([{ bounds: { messagesPerPod: 25, maxReplicas: 10 } }, { bounds: { messagesPerPod: 25, maxReplicas: 10 } }], 100) // [0.5, 0.5]
 */
export function backlogShares(consumers: readonly Consumer[], backlog: number): number[] {
  const n = consumers.length;
  if (n === 0) return [];
  if (backlog <= 0) return consumers.map(() => 1 / n);
  // Smallest capacity first: each takes an equal part of what is left, or all it can hold.
  const order = consumers
    .map((c, index) => ({ index, capacity: c.bounds.maxReplicas * c.bounds.messagesPerPod }))
    .sort((a, b) => a.capacity - b.capacity);
  const held: number[] = consumers.map(() => 0);
  let left = backlog;
  order.forEach(({ index, capacity }, k) => {
    const part = Math.min(capacity, left / (n - k));
    held[index] = part;
    left -= part;
  });
  const excess = Math.max(0, left) / n;
  return held.map((h) => (h + excess) / backlog);
}
