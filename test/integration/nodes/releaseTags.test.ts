import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type {
  V1ConfigMap,
  V1ContainerStatus,
  V1CronJob,
  V1Deployment,
  V1Job,
  V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { awsEnv } from '../../../scripts/local/aws.ts';
import { type ReleaseTag, releaseImage } from '../../../scripts/local/images/releases.ts';
import { ensureShopSchema } from '../../../scripts/local/mariadb.ts';
import {
  adminCluster,
  deleteNamespace,
  eventually,
  type TestCluster,
  testNamespace,
} from '../../helpers/cluster.ts';

const overlay = join(import.meta.dirname, '..', '..', '..', 'k8s-manifests', 'overlays', 'local-real');

interface Rendered {
  readonly configMaps: V1ConfigMap[];
  readonly web: V1Deployment;
  readonly migrate: V1CronJob;
}

/** The local-real overlay as kustomize renders it: the shop's own web Deployment, migration template and config. */
function renderOverlay(): Rendered {
  const objects = parseAllDocuments(
    execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' }),
  ).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  const one = <T>(kind: string, name: string): T => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (found === undefined) throw new Error(`${kind} ${name} missing from ${overlay}`);
    return found as T;
  };
  return {
    configMaps: objects.filter((o) => o.kind === 'ConfigMap') as V1ConfigMap[],
    web: one<V1Deployment>('Deployment', 'm2-http'),
    migrate: one<V1CronJob>('CronJob', 'm2-migrate'),
  };
}

const withImage = <T extends { image?: string }>(containers: T[], tag: ReleaseTag): T[] =>
  containers.map((c) => ({ ...c, image: releaseImage(tag) }));

/** m2-http of the overlay running `tag`, one pod, selected apart from the other releases' Deployments. */
function webDeployment(web: V1Deployment, tag: ReleaseTag): V1Deployment {
  const labels = { ...web.spec?.template.metadata?.labels, 'm2.test/release': tag };
  const spec = web.spec?.template.spec;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${tag.replaceAll('.', '-')}` },
    spec: {
      ...web.spec,
      replicas: 1,
      selector: { matchLabels: { 'm2.test/release': tag } },
      template: {
        metadata: { labels },
        spec: { ...spec, containers: withImage(spec?.containers ?? [], tag) },
      },
    },
  };
}

/** A migration Job of `tag` from the overlay's template, as the rollout (and `kubectl create job --from`) makes it. */
function migrationJob(migrate: V1CronJob, tag: ReleaseTag): V1Job {
  const jobSpec = migrate.spec?.jobTemplate.spec;
  const podSpec = jobSpec?.template.spec;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `migrate-${tag.replaceAll('.', '-')}`,
      labels: migrate.spec?.jobTemplate.metadata?.labels,
    },
    spec: {
      ...jobSpec,
      template: {
        ...jobSpec?.template,
        spec: { ...podSpec, containers: withImage(podSpec?.containers ?? [], tag) },
      },
    },
  };
}

const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const get = (url: string): Promise<Response> => fetch(url, { signal: AbortSignal.timeout(10_000) });

/**
 * Each broken release tag on the real nodes, judged by what the cluster and the pods really show:
 * the pod status kubelet reports and the HTTP status the pods answer, never the tag's name.
 */
describe('release tags on the real nodes (local-real overlay, M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let namespace: string;
  let rendered: Rendered;

  /** The one pod of a release's web Deployment, once `ready` says it reached the state awaited. */
  const webPod = (
    tag: ReleaseTag,
    what: string,
    ready: (pod: V1Pod) => boolean,
    ms = 120_000,
  ): Promise<V1Pod> =>
    eventually(
      `web ${tag}: ${what}`,
      async () => {
        const list = await admin.core.listNamespacedPod({
          namespace,
          labelSelector: `m2.test/release=${tag}`,
        });
        return list.items.find(ready);
      },
      ms,
    );

  const container = (pod: V1Pod, name: string): V1ContainerStatus | undefined =>
    pod.status?.containerStatuses?.find((c) => c.name === name);

  /** Runs a release's migration Job to its end; resolves to its final condition and its pod's exit code. */
  async function migrate(tag: ReleaseTag): Promise<{ condition: string; exitCode: number | undefined }> {
    const job = migrationJob(rendered.migrate, tag);
    await admin.batch.createNamespacedJob({ namespace, body: job });
    const name = job.metadata?.name ?? '';
    const condition = await eventually(
      `migration ${tag} to end`,
      async () => {
        const j = await admin.batch.readNamespacedJob({ namespace, name });
        return j.status?.conditions?.find(
          (c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True',
        )?.type;
      },
      120_000,
    );
    const pods = await admin.core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
    const exitCode = pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
    return { condition, exitCode };
  }

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'release-tags');
    rendered = renderOverlay();
    await admin.core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: rendered.web.spec?.template.spec?.serviceAccountName ?? 'm2-app' } },
    });
    const db = ensureShopSchema(`m2_test_${namespace}`, { fresh: true });
    for (const cm of rendered.configMaps) {
      const data = cm.metadata?.name?.startsWith('m2-env')
        ? { ...cm.data, MAGENTO_DB_NAME: db.name }
        : cm.data;
      await admin.core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: cm.metadata?.name }, data },
      });
    }
    await admin.core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: 'm2-secrets' },
        stringData: {
          MAGENTO_DB_USER: db.user,
          MAGENTO_DB_PASSWORD: db.password,
          AWS_ACCESS_KEY_ID: awsEnv.AWS_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: awsEnv.AWS_SECRET_ACCESS_KEY,
        },
      },
    });
    // The migration template: the platform's m2-rollout-images policy takes its parameters from it
    // and refuses migration Jobs in a namespace without one (fail closed).
    const { name, labels, annotations } = rendered.migrate.metadata ?? {};
    await admin.batch.createNamespacedCronJob({
      namespace,
      body: { ...rendered.migrate, metadata: { name, labels, annotations } },
    });
    // The installed shop every broken release meets: 2.4.7-p3's schema, its web pod serving.
    expect(await migrate('2.4.7-p3')).toEqual({ condition: 'Complete', exitCode: 0 });
    for (const tag of [
      '2.4.7-p3',
      '2.4.8-storefront-500',
      '2.4.8-crashloop',
      '2.4.8-never-ready',
      '2.4.8-pull-error',
    ] as const) {
      await admin.apps.createNamespacedDeployment({ namespace, body: webDeployment(rendered.web, tag) });
    }
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('2.4.8-storefront-500: the pod is Ready (/healthz 200) while its pages answer 500', async () => {
    // Prepare
    const pod = await webPod('2.4.8-storefront-500', 'Ready', isReady);
    const base = `http://${pod.status?.podIP ?? ''}:8080`;

    // Act
    const [home, product, healthz] = await Promise.all([
      get(`${base}/`),
      get(`${base}/joust-duffle-bag.html`),
      get(`${base}/healthz`),
    ]);

    // Assess
    expect([home.status, product.status, healthz.status]).toEqual([500, 500, 200]);
  });

  it('2.4.8-crashloop: php-fpm exits at start and kubelet backs off (CrashLoopBackOff)', async () => {
    // Act
    const pod = await webPod(
      '2.4.8-crashloop',
      'php-fpm in CrashLoopBackOff',
      (p) => container(p, 'php-fpm')?.state?.waiting?.reason === 'CrashLoopBackOff',
    );

    // Assess
    const fpm = container(pod, 'php-fpm');
    expect(fpm?.restartCount).toBeGreaterThanOrEqual(1);
    expect(fpm?.lastState?.terminated).toMatchObject({ reason: 'Error', exitCode: 255 });
    expect(isReady(pod)).toBe(false);
  });

  it('2.4.8-never-ready: both containers run, php-fpm passed its startup probe, the pod is never Ready (/healthz 404)', async () => {
    // Prepare
    const pod = await webPod(
      '2.4.8-never-ready',
      'running with php-fpm started',
      (p) => container(p, 'php-fpm')?.started === true && container(p, 'nginx')?.state?.running !== undefined,
    );

    // Act
    const healthz = await get(`http://${pod.status?.podIP ?? ''}:8080/healthz`);
    const now = await admin.core.readNamespacedPod({ namespace, name: pod.metadata?.name ?? '' });

    // Assess
    expect(healthz.status).toBe(404);
    expect(now.status?.phase).toBe('Running');
    expect(isReady(now)).toBe(false);
    expect(container(now, 'nginx')?.ready).toBe(false);
    expect(now.status?.containerStatuses?.map((c) => c.restartCount)).toEqual([0, 0]);
  });

  it('2.4.8-pull-error: never built, with imagePullPolicy Never kubelet reports ErrImageNeverPull', async () => {
    // Act
    const pod = await webPod('2.4.8-pull-error', 'its containers waiting on the image', (p) =>
      (p.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason?.startsWith('Err') === true),
    );

    // Assess
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.containerStatuses?.map((c) => c.state?.waiting?.reason)).toEqual([
      'ErrImageNeverPull',
      'ErrImageNeverPull',
    ]);
    expect(container(pod, 'php-fpm')?.state?.waiting?.message).toContain(releaseImage('2.4.8-pull-error'));
  });

  it('2.4.8-job-fail: the migration Job fails (setup:upgrade exits 1) and the old release keeps serving', async () => {
    // Prepare
    const old = await webPod('2.4.7-p3', 'Ready', isReady);

    // Act
    const result = await migrate('2.4.8-job-fail');
    const home = await get(`http://${old.status?.podIP ?? ''}:8080/`);

    // Assess
    expect(result).toEqual({ condition: 'Failed', exitCode: 1 });
    expect(home.status).toBe(200);
  });

  it('2.4.8-drop-column: the migration succeeds and the old release, which reads the dropped column, fails its pages', async () => {
    // Prepare
    const old = await webPod('2.4.7-p3', 'Ready', isReady);
    const base = `http://${old.status?.podIP ?? ''}:8080`;
    const before = await get(`${base}/joust-duffle-bag.html`);

    // Act
    const result = await migrate('2.4.8-drop-column');
    const [product, healthz] = await Promise.all([
      get(`${base}/joust-duffle-bag.html`),
      get(`${base}/healthz`),
    ]);

    // Assess
    expect(before.status).toBe(200);
    expect(result).toEqual({ condition: 'Complete', exitCode: 0 });
    expect(product.status).toBe(500);
    // Readiness does not see it: /healthz is php-fpm's ping, which never touches the database.
    expect(healthz.status).toBe(200);
  });
});
