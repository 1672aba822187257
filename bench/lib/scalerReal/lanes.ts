import type { V1Deployment } from '@kubernetes/client-node';
import { targetAnnotations, targetLabel } from '../../../lib/scaling/annotations.ts';
import { workerPool } from '../../../scripts/local/k8s.ts';
import type { KedaTuning } from '../../../scripts/local/kedaScaledObject.ts';
import { platform } from '../../scalerSim/world.ts';

/** The burst trace (T1 of the simulator): 10,000 product updates at once, 2 s each, batches of 10. */
export const burst = {
  messages: 10_000,
  secondsPerMessage: 2,
  maxMessages: 10,
  maxReplicas: 100,
  targetReplicas: 100,
  /** Both queue scalers: KEDA's default queueLength, the simulator's messages per pod. */
  messagesPerPod: 5,
  /** KEDA's default cooldownPeriod; ours is given the same. */
  cooldownSeconds: 300,
} as const;

/** A scaler under test and how its consumer Deployment is set up for it. */
export interface Lane {
  readonly id: string;
  readonly title: string;
  /** KEDA's ScaledObject settings, or undefined for consumerScaler. */
  readonly keda: KedaTuning | undefined;
}

/**
 * KEDA with its defaults; KEDA as a careful operator tunes it for a burst (poll every 5 s, no limit
 * on scale-up, scale-down window 180 s as ours); consumerScaler with its defaults.
 */
export const lanes: readonly Lane[] = [
  { id: 'keda-defaults', title: 'KEDA defaults', keda: {} },
  {
    id: 'keda-tuned',
    title: 'KEDA tuned',
    keda: {
      pollingIntervalSeconds: 5,
      cooldownPeriodSeconds: burst.cooldownSeconds,
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Pods', value: burst.maxReplicas, periodSeconds: 15 },
            { type: 'Percent', value: 10_000, periodSeconds: 15 },
          ],
        },
        scaleDown: { stabilizationWindowSeconds: 180 },
      },
    },
  },
  { id: 'ours', title: 'consumerScaler (defaults)', keda: undefined },
];

/** A label only this run's Deployments carry, so our scaler's passes touch nothing else. */
export const runLabel = 'm2.bench/scaler-run';

/**
 * The consumer Deployment of a lane, at zero: KWOK pods (tolerating the worker pool's taint), declared as a consumerScaler target only in our lane — with the simulator's
 * seconds-per-message (batch restart included).
 */
export function laneDeployment(lane: Lane, runId: string, queueUrl: string): V1Deployment {
  const ours = lane.keda === undefined;
  const labels = { app: lane.id, [runLabel]: runId, ...(ours ? { [targetLabel]: 'true' } : {}) };
  const secondsPerMessage =
    burst.secondsPerMessage + (platform.bootstrapSeconds + platform.pauseSeconds) / burst.maxMessages;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: lane.id,
      labels,
      ...(ours
        ? {
            annotations: {
              [targetAnnotations.queueUrl]: queueUrl,
              [targetAnnotations.messagesPerPod]: String(burst.messagesPerPod),
              [targetAnnotations.minReplicas]: '0',
              [targetAnnotations.maxReplicas]: String(burst.maxReplicas),
              [targetAnnotations.cooldownSeconds]: String(burst.cooldownSeconds),
              [targetAnnotations.secondsPerMessage]: String(secondsPerMessage),
            },
          }
        : {}),
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: lane.id } },
      template: {
        metadata: { labels: { app: lane.id } },
        spec: {
          // Any KWOK node (the worker pool's taint tolerated): 300 pods at the peak of three lanes.
          nodeSelector: { type: 'kwok' },
          tolerations: [
            { key: workerPool.label, operator: 'Equal', value: workerPool.value, effect: 'NoSchedule' },
          ],
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: 'consumer',
              image: 'magento:2.4.8',
              resources: { requests: { cpu: '10m', memory: '32Mi' } },
            },
          ],
        },
      },
    },
  };
}
