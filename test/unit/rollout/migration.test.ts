import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { MigrationFailedError } from '../../../lib/rollout/errors.ts';
import { migrationJob, readMigrationTemplate, runMigration } from '../../../lib/rollout/migration.ts';
import {
  budget,
  failureOf,
  invoke,
  lastToken,
  namespace,
  newImage,
  newShop,
  oldImage,
  repository,
  type Shop,
} from './shop.ts';

const migrate = { namespace, imageTag: '2.4.8', migrate: 'always' };

const jobsOf = (shop: Shop) => shop.cluster.objects('jobs', namespace);

async function releaseJob(shop: Shop, image: string, name = 'm2-migrate-r1') {
  const template = await readMigrationTemplate(shop.cluster, namespace, 'm2-migrate');
  return migrationJob(template, name, repository, image);
}

describe('runMigration on the fake cluster', () => {
  it('creates the Job from the template with the release image and reports its success', async () => {
    // Prepare
    const shop = newShop({ migrationTemplate: true });

    // Act
    const result = await runMigration(shop.cluster, namespace, await releaseJob(shop, newImage), 60_000);

    // Assess
    expect(result).toBe('succeeded');
    expect(jobsOf(shop).map((j) => j.spec?.template.spec?.containers.map((c) => c.image))).toEqual([
      [newImage],
    ]);
  });

  it('throws MigrationFailedError carrying the tail of the failed pod’s log', async () => {
    // Prepare: the release image's migration fails and says why in its log.
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.setImageBehaviour(newImage, {
      run: 'fail',
      log: ['setup:upgrade', 'SQLSTATE[HY000] [2002] Connection refused'],
    });

    // Act
    const error = await runMigration(shop.cluster, namespace, await releaseJob(shop, newImage), 60_000).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error instanceof MigrationFailedError ? error.logTail : '').toContain('SQLSTATE[HY000] [2002]');
  });

  it('hands over when its wait budget ends first, and a resumed wait finds the same Job', async () => {
    // Prepare: a migration that runs longer than this invocation may wait.
    const shop = newShop({ migrationTemplate: true, timing: { jobRunMs: 120_000 } });
    const job = await releaseJob(shop, newImage);

    // Act
    const first = await runMigration(shop.cluster, namespace, job, 30_000);
    const resumed = await runMigration(shop.cluster, namespace, job, 300_000);

    // Assess
    expect([first, resumed]).toEqual(['handed-over', 'succeeded']);
    expect(jobsOf(shop)).toHaveLength(1);
  });
});

describe('runRollout with a migration', () => {
  it('runs the migration before any target is patched, then rolls out', async () => {
    // Prepare
    const shop = newShop({ migrationTemplate: true });
    let writesWhenJobCreated: number | undefined;
    const create = shop.cluster.createJob.bind(shop.cluster);
    shop.cluster.createJob = async (ns: string, body: V1Job) => {
      // The migration's; cron's verification Job comes after cron is patched.
      if (body.metadata?.name?.startsWith('m2-migrate-') === true) {
        writesWhenJobCreated = shop.cluster.templateWrites.length;
      }
      return create(ns, body);
    };

    // Act
    const result = await invoke(shop, { id: 'r1', params: migrate });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(writesWhenJobCreated).toBe(0);
    expect(jobsOf(shop)).toHaveLength(1);
    expect(shop.cluster.images('deployments', namespace, 'm2-http')).toEqual([newImage, newImage]);
  });

  it('fails without touching a target when the migration fails, with the pod’s log in the report', async () => {
    // Prepare
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.setImageBehaviour(newImage, {
      run: 'fail',
      log: ['Base table or view already exists: 1050'],
    });

    // Act
    const result = await invoke(shop, { id: 'r2', params: migrate });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({ kind: 'MigrationFailedError', target: 'shop-a/m2-migrate-r2' });
    expect(result.state?.patched).toEqual([]);
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(shop.cluster.images('deployments', namespace, 'm2-http')).toEqual([oldImage, oldImage]);
    expect(failureOf(shop, 'r2')).toContain('Base table or view already exists: 1050');
  });

  it('fails when the migration outlasts the rollout’s timeout', async () => {
    // Prepare: the Job never ends; the rollout allows 60 s.
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.setImageBehaviour(newImage, { run: 'hang' });

    // Act
    const result = await invoke(shop, { id: 'r3', params: { ...migrate, timeoutSeconds: 60 } });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({ kind: 'MigrationFailedError', target: 'shop-a/m2-migrate-r3' });
    expect(result.state?.phase).toBe('failure');
    expect(shop.cluster.templateWrites).toEqual([]);
  });

  it('hands a long migration over to a continuation, which waits for the same Job and rolls out', async () => {
    // Prepare: the migration takes 3 minutes; the first invocation has 2 minutes, 1 of them the margin.
    const shop = newShop({ migrationTemplate: true, timing: { jobRunMs: 180_000 } });

    // Act
    const first = await invoke(shop, { id: 'r4', params: migrate }, budget(shop, 120_000));
    const token = lastToken(shop);
    const second = await invoke(shop, {
      id: 'r4-continued',
      params: migrate,
      continuationToken: token?.raw ?? '',
    });

    // Assess
    expect(first.outcome).toBe('continued');
    expect(token?.state.phase).toBe('migrate');
    expect(second.outcome).toBe('succeeded');
    expect(jobsOf(shop)).toHaveLength(1);
  });
});

describe('one migration at a time', () => {
  it('deletes the Job that outlasts the rollout’s timeout, and says so in the report', async () => {
    // Prepare: the Job never ends; the rollout allows 60 s.
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.setImageBehaviour(newImage, { run: 'hang' });

    // Act
    const result = await invoke(shop, { id: 'r5', params: { ...migrate, timeoutSeconds: 60 } });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(shop.cluster.requests).toContainEqual({
      verb: 'delete',
      resource: 'jobs',
      namespace,
      name: 'm2-migrate-r5',
    });
    expect(jobsOf(shop)).toEqual([]);
    expect(
      shop.cluster.objects('pods', namespace).filter((p) => p.metadata?.name?.startsWith('m2-migrate')),
    ).toEqual([]);
    expect(failureOf(shop, 'r5')).toContain('job shop-a/m2-migrate-r5 and its pod deleted');
  });

  it('names the Job for an operator when its delete is refused', async () => {
    // Prepare: the Job never ends and the apiserver refuses its delete.
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.setImageBehaviour(newImage, { run: 'hang' });
    shop.cluster.deleteJob = async () => {
      throw Object.assign(new Error('forbidden'), { code: 403 });
    };

    // Act
    const result = await invoke(shop, { id: 'r6', params: { ...migrate, timeoutSeconds: 60 } });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(jobsOf(shop).map((j) => j.metadata?.name)).toEqual(['m2-migrate-r6']);
    expect(failureOf(shop, 'r6')).toContain('job shop-a/m2-migrate-r6 NOT deleted');
  });

  it('refuses to start while another release’s migration Job still runs, and creates none', async () => {
    // Prepare: release r7's migration hangs and is left behind (its rollout gave up before deleting it).
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.setImageBehaviour(newImage, { run: 'hang' });
    await runMigration(shop.cluster, namespace, await releaseJob(shop, newImage, 'm2-migrate-r7'), 5_000);

    // Act
    const result = await invoke(shop, { id: 'r8', params: migrate });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({ kind: 'MigrationFailedError', target: 'shop-a/m2-migrate-r8' });
    expect(jobsOf(shop).map((j) => j.metadata?.name)).toEqual(['m2-migrate-r7']);
    expect(failureOf(shop, 'r8')).toContain(
      'migration Job shop-a/m2-migrate-r7 of release r7 is still running',
    );
    expect(shop.cluster.templateWrites).toEqual([]);
  });

  it('starts when the other release’s migration Job has finished', async () => {
    // Prepare: release r9's migration ran to its end.
    const shop = newShop({ migrationTemplate: true });
    await runMigration(shop.cluster, namespace, await releaseJob(shop, newImage, 'm2-migrate-r9'), 60_000);

    // Act
    const result = await invoke(shop, { id: 'r10', params: migrate });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(jobsOf(shop)).toHaveLength(2);
  });
});

describe('a migration pod that does not heal', () => {
  it('fails the migration at once with the pod’s name and reason, and deletes the Job', async () => {
    // Prepare: the release image cannot be pulled; the rollout would allow 15 minutes.
    const shop = newShop({ migrationTemplate: true });
    shop.cluster.setImageBehaviour(newImage, { run: 'pull-error' });
    const startedAt = shop.cluster.calls.now();

    // Act
    const result = await invoke(shop, { id: 'r11', params: { ...migrate, timeoutSeconds: 900 } });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({ kind: 'MigrationFailedError', target: 'shop-a/m2-migrate-r11' });
    expect(shop.cluster.calls.now() - startedAt).toBeLessThan(120_000);
    expect(failureOf(shop, 'r11')).toMatch(/pod m2-migrate-r11-\S+: (ErrImagePull|ImagePullBackOff)/);
    expect(failureOf(shop, 'r11')).toContain('job shop-a/m2-migrate-r11 and its pod deleted');
    expect(jobsOf(shop)).toEqual([]);
  });
});
