import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isPodFailing, podHealth, type RolloutPhase, rolloutStatus } from '../../../lib/k8s/rolloutStatus.ts';

interface DeploymentState {
  generation?: number;
  observedGeneration?: number;
  specReplicas?: number;
  replicas?: number;
  updated?: number;
  available?: number;
  progressingReason?: string;
}

function deployment(s: DeploymentState): V1Deployment {
  return {
    metadata: {
      name: 'web',
      generation: s.generation ?? 2,
      annotations: { 'deployment.kubernetes.io/revision': '7' },
    },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {},
      ...(s.specReplicas === undefined ? {} : { replicas: s.specReplicas }),
    },
    status: {
      observedGeneration: s.observedGeneration ?? 2,
      replicas: s.replicas ?? 0,
      updatedReplicas: s.updated ?? 0,
      availableReplicas: s.available ?? 0,
      conditions:
        s.progressingReason === undefined
          ? []
          : [{ type: 'Progressing', status: 'False', reason: s.progressingReason }],
    },
  };
}

describe('rolloutStatus', () => {
  it.each<[string, DeploymentState, RolloutPhase, string]>([
    [
      'spec change not yet observed',
      { generation: 3, observedGeneration: 2, specReplicas: 3, replicas: 3, updated: 3, available: 3 },
      'observing',
      'Waiting for deployment spec update to be observed...',
    ],
    [
      'progress deadline exceeded',
      {
        specReplicas: 3,
        replicas: 4,
        updated: 1,
        available: 3,
        progressingReason: 'ProgressDeadlineExceeded',
      },
      'failed',
      'deployment "web" exceeded its progress deadline',
    ],
    [
      'new replicas still being created',
      { specReplicas: 3, replicas: 4, updated: 1, available: 3, progressingReason: 'ReplicaSetUpdated' },
      'progressing',
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    ],
    [
      'old replicas pending termination',
      { specReplicas: 3, replicas: 4, updated: 3, available: 3 },
      'progressing',
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      'updated replicas not yet available',
      { specReplicas: 3, replicas: 3, updated: 3, available: 2 },
      'progressing',
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    ],
    [
      'everything updated and available',
      { specReplicas: 3, replicas: 3, updated: 3, available: 3, progressingReason: 'NewReplicaSetAvailable' },
      'complete',
      'deployment "web" successfully rolled out',
    ],
    [
      'scaled to zero',
      { specReplicas: 0, replicas: 0, updated: 0, available: 0 },
      'complete',
      'deployment "web" successfully rolled out',
    ],
    [
      'no spec.replicas (kubectl skips the updated check)',
      { replicas: 1, updated: 1, available: 1 },
      'complete',
      'deployment "web" successfully rolled out',
    ],
  ])('reports %s', (_title, state, phase, message) => {
    // Act
    const status = rolloutStatus(deployment(state));

    // Assess
    expect(status.phase).toBe(phase);
    expect(status.message).toBe(message);
    expect(status.revision).toBe('7');
  });

  it('counts old replicas', () => {
    expect(rolloutStatus(deployment({ specReplicas: 3, replicas: 5, updated: 2 })).oldReplicas).toBe(3);
  });
});

const pod = (containerStatuses: NonNullable<V1Pod['status']>['containerStatuses'], ready = false): V1Pod => ({
  metadata: { name: 'web-abc-1', labels: { 'pod-template-hash': 'abc' } },
  spec: { containers: [{ name: 'php', image: 'magento:2' }] },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses,
  },
});

describe('podHealth', () => {
  it('summarises a crash-looping container: waiting reason, restarts, last termination', () => {
    // Prepare
    const crashing = pod([
      {
        name: 'php',
        image: 'magento:crashloop',
        imageID: '',
        ready: false,
        restartCount: 4,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      },
    ]);

    // Act
    const health = podHealth(crashing);

    // Assess
    expect(health).toEqual({
      name: 'web-abc-1',
      phase: 'Running',
      ready: false,
      terminating: false,
      templateHash: 'abc',
      images: ['magento:2'],
      restarts: 4,
      waiting: [{ container: 'php', reason: 'CrashLoopBackOff', message: 'back-off 40s' }],
      lastTerminationReason: 'Error',
    });
    expect(isPodFailing(health)).toBe(true);
  });

  it.each([
    ['ErrImagePull', true],
    ['ImagePullBackOff', true],
    ['CrashLoopBackOff', true],
    ['CreateContainerConfigError', true],
    ['ContainerCreating', false],
    ['PodInitializing', false],
  ])('classifies waiting reason %s as failing: %s', (reason, failing) => {
    const health = podHealth(
      pod([
        {
          name: 'php',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason } },
        },
      ]),
    );
    expect(isPodFailing(health)).toBe(failing);
  });

  it('reports a ready pod with no waiting containers', () => {
    const health = podHealth(
      pod(
        [{ name: 'php', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
        true,
      ),
    );
    expect(health.ready).toBe(true);
    expect(health.waiting).toEqual([]);
    expect(isPodFailing(health)).toBe(false);
  });
});
