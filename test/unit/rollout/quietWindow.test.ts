import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { annotationPath } from '../../../lib/k8s/jsonPatch.ts';
import { quietWindowAnnotation } from '../../../lib/rollout/quietWindow.ts';
import { pausedByRolloutAnnotation } from '../../../lib/scaling/annotations.ts';
import {
  budget,
  consumers,
  failureOf,
  invoke,
  lastToken,
  namespace,
  newShop,
  oldImage,
  type Shop,
} from './shop.ts';

const migrate = { namespace, imageTag: '2.4.8', migrate: 'always' };

/** What the window touches, as the cluster holds it now. */
async function shopState(shop: Shop) {
  const cron = await shop.cluster.getCronJob({ namespace, name: 'm2-cron' });
  const deployments = await Promise.all(
    consumers.map((name) => shop.cluster.getDeployment({ namespace, name })),
  );
  return {
    cronSuspended: cron.spec?.suspend,
    cronRecord: cron.metadata?.annotations?.[quietWindowAnnotation],
    replicas: deployments.map((d) => d.spec?.replicas),
    paused: deployments.map((d) => d.metadata?.annotations?.[pausedByRolloutAnnotation]),
    records: deployments.map((d) => d.metadata?.annotations?.[quietWindowAnnotation]),
    consumerPods: consumers.map(
      (name) => shop.cluster.objects('pods', namespace, `app=${name}`).map((p) => p.metadata?.name).length,
    ),
  };
}

/** The example shop with cron running on its schedule (the fake seeds CronJobs suspended) and consumers at 1. */
async function liveShop(options: Parameters<typeof newShop>[0] = {}): Promise<Shop> {
  const shop = newShop({ migrationTemplate: true, ...options });
  await shop.cluster.patchCronJob(
    { namespace, name: 'm2-cron' },
    { type: 'json', operations: [{ op: 'replace', path: '/spec/suspend', value: false }] },
  );
  return shop;
}

const before = {
  cronSuspended: false,
  cronRecord: undefined,
  replicas: [1, 1],
  paused: [undefined, undefined],
  records: [undefined, undefined],
  consumerPods: [1, 1],
};

/** Calls `during` when the migration Job is created and records what the shop looked like then. */
function observeAtMigration(shop: Shop, during: () => Promise<void> = async () => {}) {
  const seen: { state?: Awaited<ReturnType<typeof shopState>> } = {};
  const create = shop.cluster.createJob.bind(shop.cluster);
  shop.cluster.createJob = async (ns: string, body: V1Job) => {
    if (body.metadata?.name?.startsWith('m2-migrate-') === true) {
      seen.state = await shopState(shop);
      await during();
    }
    return create(ns, body);
  };
  return seen;
}

/** A cron run: a Job owned by m2-cron, running `image`. */
async function cronRun(shop: Shop, name: string, image: string): Promise<void> {
  const cron = await shop.cluster.getCronJob({ namespace, name: 'm2-cron' });
  await shop.cluster.createJob(namespace, {
    metadata: {
      name,
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: 'm2-cron',
          uid: cron.metadata?.uid ?? '',
          controller: true,
        },
      ],
    },
    spec: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'cron', image }] } },
    },
  });
}

describe('the quiet migration window', () => {
  it('runs the migration with cron suspended and every consumer paused at 0 with no pod left, then restores them', async () => {
    // Prepare
    const shop = await liveShop();
    const seen = observeAtMigration(shop);

    // Act
    const result = await invoke(shop, { id: 'q1', params: migrate });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(seen.state).toEqual({
      cronSuspended: true,
      cronRecord: JSON.stringify({ release: 'q1', suspend: false }),
      replicas: [0, 0],
      paused: ['q1', 'q1'],
      records: [
        JSON.stringify({ release: 'q1', replicas: 1 }),
        JSON.stringify({ release: 'q1', replicas: 1 }),
      ],
      consumerPods: [0, 0],
    });
    shop.cluster.settle();
    expect(await shopState(shop)).toEqual(before);
    expect(result.state?.quiet).toBe('closed');
  });

  it('restores cron and consumers after a failed migration', async () => {
    // Prepare
    const shop = await liveShop();
    shop.cluster.setImageBehaviour('registry.example/magento:2.4.8', {
      run: 'fail',
      log: ['SQLSTATE[42S01]'],
    });
    const seen = observeAtMigration(shop);

    // Act
    const result = await invoke(shop, { id: 'q2', params: migrate });

    // Assess
    expect(result.failure).toMatchObject({ kind: 'MigrationFailedError' });
    expect(seen.state).toMatchObject({ cronSuspended: true, replicas: [0, 0], consumerPods: [0, 0] });
    shop.cluster.settle();
    expect(await shopState(shop)).toEqual(before);
  });

  it('restores cron and consumers after a migration that outlasts the timeout', async () => {
    // Prepare
    const shop = await liveShop();
    shop.cluster.setImageBehaviour('registry.example/magento:2.4.8', { run: 'hang' });

    // Act
    const result = await invoke(shop, { id: 'q3', params: { ...migrate, timeoutSeconds: 60 } });

    // Assess
    expect(result.failure).toMatchObject({ kind: 'MigrationFailedError' });
    shop.cluster.settle();
    expect(await shopState(shop)).toEqual(before);
  });

  it('keeps a previously suspended cron suspended and a consumer at 0 at 0', async () => {
    // Prepare: an operator had suspended cron and the scaler had drained one consumer before the release.
    const shop = newShop({ migrationTemplate: true });
    await shop.cluster.updateDeploymentScale(
      { namespace, name: 'm2-consumer-export' },
      { spec: { replicas: 0 } },
    );

    // Act
    const result = await invoke(shop, { id: 'q4', params: migrate });

    // Assess
    expect(result.outcome).toBe('succeeded');
    shop.cluster.settle();
    expect(await shopState(shop)).toMatchObject({
      cronSuspended: true,
      cronRecord: undefined,
      replicas: [0, 1],
      paused: [undefined, undefined],
    });
  });

  it('waits for a running cron Job before the migration starts', async () => {
    // Prepare: cron is mid-run (2 s left) when the release starts.
    const shop = await liveShop();
    await cronRun(shop, 'm2-cron-2910', oldImage);
    const seen: { cronJobDone?: boolean } = {};
    const create = shop.cluster.createJob.bind(shop.cluster);
    shop.cluster.createJob = async (ns: string, body: V1Job) => {
      const cronJob = shop.cluster.object('jobs', namespace, 'm2-cron-2910');
      seen.cronJobDone = cronJob?.status?.conditions?.some((c) => c.type === 'Complete') === true;
      return create(ns, body);
    };

    // Act
    const result = await invoke(shop, { id: 'q5', params: migrate });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(seen.cronJobDone).toBe(true);
  });

  it('does not migrate beside a cron Job that does not finish, names it, and restores the shop', async () => {
    // Prepare
    const shop = await liveShop();
    await cronRun(shop, 'm2-cron-2911', 'registry.example/magento:job-hang');
    const migrations: string[] = [];
    const create = shop.cluster.createJob.bind(shop.cluster);
    shop.cluster.createJob = async (ns: string, body: V1Job) => {
      migrations.push(body.metadata?.name ?? '');
      return create(ns, body);
    };

    // Act
    const result = await invoke(shop, { id: 'q6', params: { ...migrate, timeoutSeconds: 30 } });

    // Assess
    expect(result.failure).toMatchObject({ kind: 'QuietWindowError' });
    expect(failureOf(shop, 'q6')).toContain('job/m2-cron-2911');
    expect(migrations).toEqual([]);
    shop.cluster.settle();
    expect(await shopState(shop)).toMatchObject({
      cronSuspended: false,
      replicas: [1, 1],
      paused: [undefined, undefined],
    });
  });

  it('leaves what someone else changed during the window as they left it, and reports it', async () => {
    // Prepare: during the migration an operator unsuspends cron and scales one consumer to 2.
    const shop = await liveShop();
    observeAtMigration(shop, async () => {
      await shop.cluster.patchCronJob(
        { namespace, name: 'm2-cron' },
        { type: 'json', operations: [{ op: 'replace', path: '/spec/suspend', value: false }] },
      );
      await shop.cluster.updateDeploymentScale(
        { namespace, name: 'm2-consumer-media' },
        { spec: { replicas: 2 } },
      );
    });

    // Act
    const result = await invoke(shop, { id: 'q7', params: migrate });

    // Assess
    expect(result.outcome).toBe('succeeded');
    shop.cluster.settle();
    expect(await shopState(shop)).toMatchObject({
      cronSuspended: false,
      cronRecord: undefined,
      replicas: [1, 2],
      paused: [undefined, undefined],
      records: [undefined, undefined],
    });
    expect(result.message).toContain('cronjob/m2-cron was unsuspended by someone else');
    expect(result.message).toContain('deployment/m2-consumer-media was scaled to 2 by someone else');
  });

  it('hands a long drain over to a continuation, which keeps the window and migrates', async () => {
    // Prepare: a cron Job runs 3 minutes; the first invocation may work for 1 of them.
    const shop = await liveShop({ timing: { jobRunMs: 180_000 } });
    await cronRun(shop, 'm2-cron-2912', oldImage);

    // Act
    const first = await invoke(shop, { id: 'q8', params: migrate }, budget(shop, 120_000));
    const token = lastToken(shop);
    const during = await shopState(shop);
    const second = await invoke(shop, {
      id: 'q8-continued',
      params: migrate,
      continuationToken: token?.raw ?? '',
    });

    // Assess
    expect(first.outcome).toBe('continued');
    expect(token?.state).toMatchObject({ phase: 'migrate', quiet: 'opening' });
    expect(during).toMatchObject({ cronSuspended: true, replicas: [0, 0] });
    expect(second.outcome).toBe('succeeded');
    shop.cluster.settle();
    expect(await shopState(shop)).toEqual(before);
  });
});

describe('a quiet window when CodePipeline stops waiting', () => {
  it('is closed when the job was stopped and abandoned during the drain', async () => {
    // Prepare: a 3-minute cron Job keeps the window draining past this invocation's time; the
    // execution is stopped meanwhile, so CodePipeline refuses the hand-over.
    const shop = await liveShop({ timing: { jobRunMs: 180_000 } });
    await cronRun(shop, 'm2-cron-2913', oldImage);
    shop.results.createJob('a1', { userParameters: JSON.stringify(migrate) });
    shop.results.abandon('a1');

    // Act
    const result = await invoke(shop, { id: 'a1', params: migrate, created: false }, budget(shop, 120_000));

    // Assess
    expect(result.outcome).toBe('abandoned');
    expect(result.message).toContain('quiet window');
    shop.cluster.settle();
    expect(await shopState(shop)).toMatchObject({
      cronSuspended: false,
      cronRecord: undefined,
      replicas: [1, 1],
      paused: [undefined, undefined],
      records: [undefined, undefined],
    });
  });
});

describe('a quiet window a crash left open', () => {
  /** The shop as an invocation of `release` left it when it died inside the window. */
  async function crashedInWindow(shop: Shop, release: string): Promise<void> {
    await shop.cluster.patchCronJob(
      { namespace, name: 'm2-cron' },
      {
        type: 'json',
        operations: [
          { op: 'add', path: '/metadata/annotations', value: {} },
          {
            op: 'add',
            path: annotationPath(quietWindowAnnotation),
            value: JSON.stringify({ release, suspend: false }),
          },
          { op: 'replace', path: '/spec/suspend', value: true },
        ],
      },
    );
    for (const name of consumers) {
      await shop.cluster.patchDeployment(
        { namespace, name },
        {
          type: 'json',
          operations: [
            { op: 'add', path: '/metadata/annotations', value: {} },
            {
              op: 'add',
              path: annotationPath(quietWindowAnnotation),
              value: JSON.stringify({ release, replicas: 1 }),
            },
            { op: 'add', path: annotationPath(pausedByRolloutAnnotation), value: release },
            { op: 'replace', path: '/spec/replicas', value: 0 },
          ],
        },
      );
    }
    shop.cluster.settle();
  }

  it('is closed by the shop’s next release, even one without a migration', async () => {
    // Prepare
    const shop = newShop({ migrationTemplate: true });
    await crashedInWindow(shop, 'crashed-1');

    // Act
    const result = await invoke(shop, { id: 'n1' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    shop.cluster.settle();
    expect(await shopState(shop)).toEqual(before);
  });

  it('is adopted by a retry of the same release: the replicas from before the crash come back, not 0', async () => {
    // Prepare: Lambda retries the first invocation of release c2 after it died during the migration.
    const shop = newShop({ migrationTemplate: true });
    await crashedInWindow(shop, 'c2');
    const seen = observeAtMigration(shop);

    // Act
    const result = await invoke(shop, { id: 'c2', params: migrate });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(seen.state).toMatchObject({ cronSuspended: true, replicas: [0, 0], paused: ['c2', 'c2'] });
    shop.cluster.settle();
    expect(await shopState(shop)).toEqual(before);
  });
});
