import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callK8s } from '../../../lib/k8s/call.ts';
import { readDeployment } from '../../../lib/k8s/deployments.ts';
import { ForbiddenError } from '../../../lib/k8s/errors.ts';
import { readScale, updateScale } from '../../../lib/k8s/scale.ts';
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

describe('RBAC on the functions’ own identities', () => {
  let admin: TestCluster;
  let readonly: TestCluster;
  let scaler: TestCluster;
  let namespace: string;

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'rbac');
    await admin.apps.createNamespacedDeployment({
      namespace,
      body: testDeployment('web', 'magento:2.4.8', 1),
    });
    // Grants made here, so the test does not depend on k8s-manifests.
    await grant(admin, namespace, 'm2:readonly-test', [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
    ]);
    await grant(admin, namespace, 'm2:consumer-scaler', [
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update', 'patch'] },
    ]);
    readonly = await roleCluster(roleArns.readonlyTest);
    scaler = await roleCluster(roleArns.consumerScaler);
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('allows what was granted', async () => {
    const deployment = await readDeployment(readonly, { namespace, name: 'web' });
    expect(deployment.metadata?.name).toBe('web');
  });

  it('forbids deleting a Deployment and says which verb on which object', async () => {
    // Act
    const deletion = callK8s(
      readonly.calls,
      { verb: 'delete', resource: 'deployments.apps', namespace, name: 'web', idempotent: true },
      () => readonly.apps.deleteNamespacedDeployment({ namespace, name: 'web' }),
    );

    // Assess
    await expect(deletion).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deletion).rejects.toMatchObject({
      verb: 'delete',
      resource: 'deployments.apps',
      namespace,
      objectName: 'web',
      status: 403,
    });
    await expect(deletion).rejects.toThrow(/User "m2:readonly-test" cannot delete resource "deployments"/);
  });

  it('forbids reading Secrets', async () => {
    // Act
    const listing = callK8s(
      readonly.calls,
      { verb: 'list', resource: 'secrets', namespace, idempotent: true },
      () => readonly.core.listNamespacedSecret({ namespace }),
    );

    // Assess
    await expect(listing).rejects.toBeInstanceOf(ForbiddenError);
    await expect(listing).rejects.toThrow(`list secrets in namespace ${namespace}: `);
    await expect(listing).rejects.toThrow(/cannot list resource "secrets"/);
  });

  it('forbids the read-only identity to scale, and lets the scaler identity scale', async () => {
    // Act
    const denied = await readScale(readonly, { namespace, name: 'web' }).catch((error: unknown) => error);
    const scaled = await updateScale(scaler, { namespace, name: 'web' }, () => 2);

    // Assess
    expect(denied).toBeInstanceOf(ForbiddenError);
    expect(denied).toMatchObject({ verb: 'get', resource: 'deployments.apps/scale' });
    expect(scaled).toMatchObject({ changed: true, previousReplicas: 1, scale: { replicas: 2 } });
  });

  it('forbids the scaler identity to delete the Deployment', async () => {
    // Act
    const deletion = callK8s(
      scaler.calls,
      { verb: 'delete', resource: 'deployments.apps', namespace, name: 'web', idempotent: true },
      () => scaler.apps.deleteNamespacedDeployment({ namespace, name: 'web' }),
    );

    // Assess
    await expect(deletion).rejects.toThrow(/User "m2:consumer-scaler" cannot delete resource "deployments"/);
  });
});
