import { realNodesEnabled } from '../local/nodes.ts';

/**
 * Where the demo's shop runs. `kwok`: KWOK nodes, whose pods are status records (no process serves a
 * request or consumes a message), so availability is what the Deployment's status says. `real-nodes`:
 * the kubelet nodes of `M2_REAL_NODES=1 npm run local:up`, where the example shop's web and consumer
 * pods are processes: the storefront is under load during the rollouts and real consumers drain the burst.
 */
export type DemoLane = 'kwok' | 'real-nodes';

/**
 * The lane the caller asked for, read before the environment starts: an environment that already
 * runs real nodes adds M2_REAL_NODES=1 to the process environment when it is reused, and a demo
 * started without the switch must still run as it always did, on KWOK.
 */
export const requestedLane = (): DemoLane => (realNodesEnabled() ? 'real-nodes' : 'kwok');

/** One sentence for the report and the summary table. */
export function laneText(lane: DemoLane): string {
  return lane === 'real-nodes'
    ? 'real nodes (M2_REAL_NODES=1): the example shop (local-real overlay) runs as processes on kubelet + containerd nodes; storefront requests through the m2-http Service during every rollout; the burst is drained by the consumer pods themselves'
    : 'KWOK nodes: pods are status records, no container runs; availability is the Deployment status, the burst is drained by a simulated consumer, no storefront load (set M2_REAL_NODES=1 for real pods)';
}
