import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScale, updateScale } from '../../../lib/k8s/scale.ts';
import { restartApiserver } from '../../../scripts/local/k8s.ts';
import {
  adminCluster,
  deleteNamespace,
  grant,
  roleArns,
  roleCluster,
  type TestCluster,
  testDeployment,
  testNamespace,
} from '../../helpers/cluster.ts';

describe('an apiserver restart in the middle of a call sequence', () => {
  let admin: TestCluster;
  let namespace: string;

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'restart');
    await admin.apps.createNamespacedDeployment({
      namespace,
      body: testDeployment('consumer', 'magento:2.4.8', 0),
    });
    await grant(admin, namespace, 'm2:consumer-scaler', [
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update'] },
    ]);
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('is survived: every scale step of the sequence lands exactly once', async () => {
    // Prepare: the scaler's EKS identity, so the token webhook is exercised across the restart too.
    const scaler = await roleCluster(roleArns.consumerScaler);
    const ref = { namespace, name: 'consumer' };
    const steps = 12;
    let completed = 0;

    // Act: restart (stop + start by recorded PID) while the sequence runs.
    const sequence = (async () => {
      for (let i = 0; i < steps; i++) {
        await updateScale(scaler, ref, (s) => s.replicas + 1);
        completed++;
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const restart = (async () => {
      while (completed < 2) await new Promise((r) => setTimeout(r, 50));
      await restartApiserver();
    })();
    await Promise.all([sequence, restart]);

    // Assess
    expect(completed).toBe(steps);
    expect((await readScale(admin, ref)).replicas).toBe(steps);
  }, 90_000);
});
