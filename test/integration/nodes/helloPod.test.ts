import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeImages, realNodeTaint } from '../../../scripts/local/nodes.ts';
import {
  adminCluster,
  deleteNamespace,
  eventually,
  type TestCluster,
  testNamespace,
} from '../../helpers/cluster.ts';

const zoneLabel = 'topology.kubernetes.io/zone';

/** The hello image on the real nodes, one pod per zone as the shop's web tier is spread. */
function helloDeployment(replicas: number): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'hello' } },
      template: {
        metadata: { labels: { app: 'hello' } },
        spec: {
          nodeSelector: { type: 'real' },
          tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: realNodeTaint.effect }],
          automountServiceAccountToken: false,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: zoneLabel,
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: { matchLabels: { app: 'hello' } },
            },
          ],
          containers: [
            {
              name: 'hello',
              image: nodeImages.hello,
              imagePullPolicy: 'Never',
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('a Deployment on the real nodes (M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let namespace: string;
  let pods: V1Pod[];

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'real-nodes');
    await admin.apps.createNamespacedDeployment({ namespace, body: helloDeployment(3) });
    pods = await eventually(
      'three Ready hello pods',
      async () => {
        const list = await admin.core.listNamespacedPod({ namespace, labelSelector: 'app=hello' });
        const ready = list.items.filter(isReady);
        return ready.length === 3 ? ready : undefined;
      },
      120_000,
    );
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('runs one Ready pod per zone, each on a kubelet with containerd 2', async () => {
    // Prepare
    const nodes = await admin.core.listNode({ labelSelector: 'type=real' });
    const byName = new Map(nodes.items.map((n) => [n.metadata?.name ?? '', n]));

    // Act
    const placed = pods.map((pod) => byName.get(pod.spec?.nodeName ?? ''));

    // Assess
    expect(placed.map((n) => n?.metadata?.labels?.[zoneLabel]).sort()).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
    ]);
    for (const node of placed) {
      expect(node?.status?.nodeInfo?.kubeletVersion).toBe('v1.37.2');
      expect(node?.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
    }
  });

  it('answers HTTP on every pod IP from this machine, on the environment bridge', async () => {
    for (const pod of pods) {
      // Prepare
      const ip = pod.status?.podIP ?? '';
      expect(ip).toMatch(/^10\.89\.[1-9]\.\d+$/);

      // Act
      const response = await fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(5000) });

      // Assess
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('served by busybox httpd in a pod on a real node');
    }
  });
});
