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
  if (consumers.length === 0) return [];
  if (backlog <= 0) return consumers.map(() => 1 / consumers.length);
  const capacity = consumers.map((c) => c.bounds.maxReplicas * c.bounds.messagesPerPod);
  const shares: number[] = consumers.map(() => 0);
  let open = consumers.map((_, i) => i);
  let left = backlog;
  // Each round either fills every open consumer's equal part or retires those it fills to capacity.
  while (open.length > 0 && left > 1e-9) {
    const part = left / open.length;
    const full = open.filter((i) => (capacity[i] ?? 0) - (shares[i] ?? 0) <= part);
    if (full.length === 0) {
      for (const i of open) shares[i] = (shares[i] ?? 0) + part;
      left = 0;
    } else {
      for (const i of full) {
        left -= (capacity[i] ?? 0) - (shares[i] ?? 0);
        shares[i] = capacity[i] ?? 0;
      }
      open = open.filter((i) => !full.includes(i));
    }
  }
  const excess = left > 1e-9 ? left / consumers.length : 0;
  return shares.map((share) => (share + excess) / backlog);
}
