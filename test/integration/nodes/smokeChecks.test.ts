import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1CronJob } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstReady, recordingLog } from '../../../bench/lib/traffic/rolloutFunction.ts';
import type { LogLine as Line } from '../../../bench/lib/traffic/rolloutVerdict.ts';
import { deployWebTier, renderLocalReal, webDeployment } from '../../../bench/lib/traffic/shopWeb.ts';
import { nameLabel, previewAnnotation, previewNameOf } from '../../../lib/rollout/preview.ts';
import { smokeService } from '../../../lib/rollout/smokeTest.ts';
import { releaseImage } from '../../../scripts/local/images/releases.ts';
import { ensureShopSchema } from '../../../scripts/local/mariadb.ts';
import {
  adminCluster,
  deleteNamespace,
  roleArns,
  roleCluster,
  type TestCluster,
  testNamespace,
} from '../../helpers/cluster.ts';
import { manifestsDir } from '../../helpers/manifests.ts';
import { kubectl } from '../manifests/cluster.ts';
import { imagesOf, invokeRollout, newJobId, recordedResult } from '../rollout/rolloutFixture.ts';

describe('smoke checks of a release on real nodes (M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let rollout: TestCluster;
  let namespace: string;
  const params = (tag: '2.4.8' | '2.4.8-storefront-500') => ({
    namespace,
    image: releaseImage(tag),
    migrate: 'never',
    targets: { web: [webDeployment], consumers: [], cron: [] },
  });

  /** Ships 2.4.8-storefront-500 as the rollout role, noting when a pod of it was first seen Ready. */
  async function shipStorefront500(lines: Line[], id: string) {
    const ready = firstReady(admin, namespace, releaseImage('2.4.8-storefront-500'));
    const result = await invokeRollout(
      rollout,
      { id, params: params('2.4.8-storefront-500') },
      { log: recordingLog(lines) },
    );
    return { result, readyAt: await ready.stop() };
  }

  beforeAll(async () => {
    admin = await adminCluster();
    // The platform (ClusterRole m2:rollout, its admission policies) as the manifests say now.
    kubectl([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=m2-smoke-test',
      '-k',
      join(manifestsDir, 'platform'),
    ]);
    namespace = await testNamespace(admin, 'smoke');
    const db = ensureShopSchema(`m2_test_${namespace}`, { fresh: true });
    // The shop's web tier (overlay local-real) on 2.4.7-p3, its schema already at 2.4.8 (blue/green).
    await deployWebTier(admin, namespace, {
      tag: '2.4.7-p3',
      replicas: 2,
      db,
      upgrades: ['2.4.7-p3', '2.4.8'],
    });
    await admin.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'm2-rollout' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'm2:rollout' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'm2:rollout' }],
      },
    });
    rollout = await roleCluster(roleArns.rollout);
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('passes a good release (2.4.8) after the default checks, and removes its Service', async () => {
    // Prepare
    const lines: Line[] = [];
    const id = newJobId();

    // Act
    const result = await invokeRollout(
      rollout,
      { id, params: params('2.4.8') },
      { log: recordingLog(lines) },
    );

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(imagesOf(namespace, 'deployment', webDeployment)).toEqual([
      releaseImage('2.4.8'),
      releaseImage('2.4.8'),
    ]);
    // Checked twice: on the preview pod, then on the new ReplicaSet.
    expect(lines.filter((l) => l.message === 'preview passed')).toHaveLength(1);
    const passed = lines.find((l) => l.message === 'smoke checks passed');
    expect(passed?.fields).toMatchObject({ checks: 2, source: 'default' });
    // Home, its stylesheet and GraphQL, plus a retry when the new Service had no endpoint yet.
    expect(passed?.fields.requests).toBeGreaterThanOrEqual(3);
    const services = await admin.core.listNamespacedService({ namespace });
    expect(services.items.map((s) => s.metadata?.name)).not.toContain(smokeService.name);
    console.info(
      `smoke checks on a good release: ${String(passed?.fields.ms)} ms for ${String(passed?.fields.requests)} requests`,
    );
  });

  it('catches a release whose pages answer 500 on its preview pod, before any m2-http pod runs it', async () => {
    // Prepare
    const lines: Line[] = [];
    const id = newJobId();
    const broken = releaseImage('2.4.8-storefront-500');

    // Act
    const { result, readyAt } = await shipStorefront500(lines, id);

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure?.kind).toBe('SmokeCheckFailedError');
    expect(result.failure?.target).toBe(`${namespace}/deployment/${previewNameOf(webDeployment)}`);
    expect(result.failure?.reason).toMatch(
      /^smoke check GET \/ answered 500 \(expected 200\); body starts "<!doctype html><html><head><title>There has been an error processing your request/,
    );
    expect(result.state?.patched).toEqual([]);
    expect(imagesOf(namespace, 'deployment', webDeployment)).toEqual([
      releaseImage('2.4.8'),
      releaseImage('2.4.8'),
    ]);
    // Never a ReplicaSet of m2-http with the image: no pod the shop's Service selects ran it.
    const sets = await admin.apps.listNamespacedReplicaSet({
      namespace,
      labelSelector: `${nameLabel}=${webDeployment}`,
    });
    expect(
      sets.items.flatMap((rs) => rs.spec?.template?.spec?.containers.map((c) => c.image) ?? []),
    ).not.toContain(broken);
    // The preview is gone again (its pods follow through the garbage collector).
    const deployments = await admin.apps.listNamespacedDeployment({ namespace });
    expect(deployments.items.map((d) => d.metadata?.name)).not.toContain(previewNameOf(webDeployment));
    const reported = await recordedResult(id);
    expect(reported?.operation).toBe('PutJobFailureResult');
    expect(reported?.body.failureDetails?.message).toMatch(
      /deployment\/m2-http-preview: smoke check GET \/ answered 500 .*Caught on the preview pod, deleted again: no web, consumer or cron pod ran the new image, nothing was changed\.$/s,
    );
    const failedAt = lines.find((l) => l.message === 'smoke check failed')?.at;
    console.info(
      `storefront-500: verdict ${readyAt === undefined || failedAt === undefined ? '?' : failedAt - readyAt} ms after the preview pod was seen Ready`,
    );
  });

  it('with the preview off, rolls back a release whose pages answer 500 while its pods are Ready', async () => {
    // Prepare
    const lines: Line[] = [];
    const id = newJobId();
    await admin.apps.patchNamespacedDeployment(
      {
        namespace,
        name: webDeployment,
        body: { metadata: { annotations: { [previewAnnotation]: 'false' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

    // Act
    const { result, readyAt } = await shipStorefront500(lines, id);

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure?.kind).toBe('SmokeCheckFailedError');
    expect(result.failure?.reason).toMatch(
      /^smoke check GET \/ answered 500 \(expected 200\); body starts "<!doctype html><html><head><title>There has been an error processing your request/,
    );
    expect(imagesOf(namespace, 'deployment', webDeployment)).toEqual([
      releaseImage('2.4.8'),
      releaseImage('2.4.8'),
    ]);
    const reported = await recordedResult(id);
    expect(reported?.operation).toBe('PutJobFailureResult');
    expect(reported?.body.failureDetails?.message).toMatch(
      /deployment\/m2-http: smoke check GET \/ answered 500 .*Rolled back to the recorded images: [^ ]+\/deployment\/m2-http\.$/s,
    );
    const failedAt = lines.find((l) => l.message === 'smoke check failed')?.at;
    console.info(
      `storefront-500 (preview off): verdict ${readyAt === undefined || failedAt === undefined ? '?' : failedAt - readyAt} ms after the first new pod was seen Ready`,
    );
  });

  it('rolls back a release whose cron:run fails in its verification Job, after web rolled', async () => {
    // Prepare: the shop's m2-cron as local-real renders it, on 2.4.7-p3 and suspended (no minute runs).
    const cron = renderLocalReal().find(
      (o): o is V1CronJob => o.kind === 'CronJob' && o.metadata?.name === 'm2-cron',
    );
    const pod = cron?.spec?.jobTemplate.spec?.template.spec;
    if (cron?.spec === undefined || pod === undefined) throw new Error('the overlay renders no m2-cron');
    await admin.batch.createNamespacedCronJob({
      namespace,
      body: {
        ...cron,
        metadata: { ...cron.metadata, namespace },
        spec: { ...cron.spec, suspend: true },
      },
    });
    await admin.batch.patchNamespacedCronJob(
      {
        namespace,
        name: 'm2-cron',
        body: [
          {
            op: 'replace',
            path: '/spec/jobTemplate/spec/template/spec/containers/0/image',
            value: releaseImage('2.4.7-p3'),
          },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const lines: Line[] = [];
    const id = newJobId();

    // Act
    const result = await invokeRollout(
      rollout,
      {
        id,
        params: {
          namespace,
          image: releaseImage('2.4.8-cron-fail'),
          migrate: 'never',
          targets: { web: [webDeployment], consumers: [], cron: ['m2-cron'] },
        },
      },
      { log: recordingLog(lines) },
    );

    // Assess: web ran the release and passed, cron's one run failed, everything is back.
    expect(result.outcome).toBe('failed');
    expect(result.failure?.kind).toBe('TargetFailedError');
    expect(result.failure?.target).toBe(`${namespace}/cronjob/m2-cron`);
    expect(lines.some((l) => l.message === 'smoke checks passed')).toBe(true);
    expect(imagesOf(namespace, 'deployment', webDeployment)).toEqual([
      releaseImage('2.4.8'),
      releaseImage('2.4.8'),
    ]);
    expect(imagesOf(namespace, 'cronjob', 'm2-cron')).toEqual([releaseImage('2.4.7-p3')]);
    const reported = await recordedResult(id);
    expect(reported?.body.failureDetails?.message).toMatch(
      /cronjob\/m2-cron: verification job [^ ]+\/m2-cron-verify-\S+ \(cron:run with localhost\/m2\/magento:2\.4\.8-cron-fail\) failed: BackoffLimitExceeded.*ProcessCronQueueObserver" not found.*Rolled back to the recorded images: .*cronjob\/m2-cron.*deployment\/m2-http\.$/s,
    );
    // The failed run is kept for its logs; it is the only Job the rollout left.
    const jobs = await admin.batch.listNamespacedJob({ namespace });
    expect(jobs.items.map((j) => j.status?.failed)).toEqual([1]);
    const patchedAt = lines.find(
      (l) => l.message === 'target patched' && String(l.fields.target).includes('cronjob/m2-cron'),
    )?.at;
    const failedAt = lines.find((l) => l.message === 'rollout phase failed')?.at;
    console.info(
      `cron-fail: verdict ${patchedAt === undefined || failedAt === undefined ? '?' : failedAt - patchedAt} ms after m2-cron was patched`,
    );
  });
});
