import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1CronJob,
  type V1Deployment,
  type V1ObjectMeta,
  type V1PodSpec,
  type V1PodTemplateSpec,
  type V1Service,
  type V1ServiceSpec,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCronJob } from '../../../lib/k8s/cronJobs.ts';
import {
  createDeployment,
  deleteDeployment,
  jsonPatchDeployment,
  patchDeployment,
  readDeployment,
} from '../../../lib/k8s/deployments.ts';
import { ForbiddenError, NotFoundError } from '../../../lib/k8s/errors.ts';
import { createJob, deleteJob } from '../../../lib/k8s/jobs.ts';
import { writeScale } from '../../../lib/k8s/scale.ts';
import { createService, deleteService, getThroughServiceProxy } from '../../../lib/k8s/services.ts';
import {
  cronVerificationJob,
  cronVerificationJobName,
  verifiesLabel,
} from '../../../lib/rollout/cronVerification.ts';
import { withReleaseImage } from '../../../lib/rollout/imageRef.ts';
import { migrationJob, migrationJobName } from '../../../lib/rollout/migration.ts';
import {
  nameLabel,
  previewDeploymentFor,
  previewNameOf,
  previewOfLabel,
} from '../../../lib/rollout/preview.ts';
import { allRunning, containerImagesOf, recordValue } from '../../../lib/rollout/recordedImages.ts';
import { smokeAnnotations } from '../../../lib/rollout/smokeChecks.ts';
import { smokeService, smokeServiceFor } from '../../../lib/rollout/smokeTest.ts';
import { rolloutAnnotations, updateTarget } from '../../../lib/rollout/targets.ts';
import { stateAnnotations } from '../../../lib/scaling/annotations.ts';
import { writeScalerState } from '../../../lib/scaling/stateWrite.ts';
import {
  adminCluster,
  eventually,
  grant,
  roleArns,
  roleCluster,
  type TestCluster,
} from '../../helpers/cluster.ts';
import { manifestsDir } from '../../helpers/manifests.ts';
import { kubectl, kubectlJson, renderShopInto } from '../manifests/cluster.ts';

/** The repository the example overlay pins (its `images:`), and a release of it. */
const repository = '123456789012.dkr.ecr.us-east-1.amazonaws.com/magento';
const release = `${repository}:2.4.8`;
const consumer = 'm2-consumer-media';
const cronJob = { kind: 'CronJob', name: 'm2-cron' } as const;
const web = { kind: 'Deployment', name: 'm2-http' } as const;

/** A copy of a pod template with its first container changed by `edit`. */
function editFirstContainer(
  template: V1PodTemplateSpec,
  edit: (c: V1Container) => V1Container,
): V1PodTemplateSpec {
  const [first, ...rest] = template.spec?.containers ?? [];
  if (template.spec === undefined || first === undefined) throw new Error('template without containers');
  return { ...template, spec: { ...template.spec, containers: [edit(first), ...rest] } };
}

/** What a refused call threw; fails the test when the call succeeded. */
async function refusal(call: Promise<unknown>): Promise<ForbiddenError> {
  const outcome = await call.then(
    () => new Error('the write was admitted'),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ForbiddenError);
  return outcome as ForbiddenError;
}

describe('admission policies on the functions’ own identities', () => {
  let admin: TestCluster;
  let scaler: TestCluster;
  let rollout: TestCluster;
  const namespace = `m2-admission-${randomBytes(3).toString('hex')}`;
  const ref = (name: string) => ({ namespace, name });
  /** Writes web's whole pod template, edited, as m2:rollout: a write the rollout itself never makes. */
  const writeWebTemplate = async (edit: (template: V1PodTemplateSpec) => V1PodTemplateSpec) => {
    const current = (await readDeployment(rollout, ref(web.name))).spec?.template ?? {};
    return jsonPatchDeployment(rollout, ref(web.name), [
      { op: 'replace', path: '/spec/template', value: edit(current) },
    ]);
  };

  beforeAll(async () => {
    admin = await adminCluster();
    // Forced: other suites apply the platform under their own field managers, and an edit of it
    // between runs would otherwise conflict with what they applied.
    for (const dir of ['platform', 'platform/admission']) {
      kubectl([
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager=m2-admission-test',
        '-k',
        join(manifestsDir, dir),
      ]);
    }
    // The real shop (its RoleBindings and the m2-migrate template the rollout policy reads), with
    // the every-minute cron suspended: nothing here needs its Jobs.
    const shop = renderShopInto('overlays/example-shop', namespace);
    kubectl(['apply', '--server-side', '--field-manager=m2-admission-test', '-f', '-'], { input: shop });
    kubectl(['patch', 'cronjob/m2-cron', '-n', namespace, '-p', '{"spec":{"suspend":true}}']);
    scaler = await roleCluster(roleArns.consumerScaler);
    rollout = await roleCluster(roleArns.rollout);
    // A policy takes effect once the apiserver has loaded it and its binding.
    await eventually('the admission policies enforced', async () => {
      const denied = await patchDeployment(scaler, ref(consumer), {
        metadata: { annotations: { 'm2.test/probe': 'x' } },
      }).catch((error: unknown) => error);
      return denied instanceof ForbiddenError && /m2-consumer-scaler/.test(denied.message) ? true : undefined;
    });
  });

  afterAll(() => {
    kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
  });

  describe('m2-consumer-scaler', () => {
    it('admits the scaler’s own writes: replicas through the scale subresource and its state annotations', async () => {
      // Act: read and write as the scaler does, again after a conflict, since the deployment
      // controller's status writes can move the resourceVersion in between (it failed CI once).
      await eventually('the scale written', async () => {
        const before = await readDeployment(scaler, ref(consumer));
        return writeScale(scaler, ref(consumer), 2, before.metadata?.resourceVersion ?? '');
      });
      await writeScalerState(scaler, ref(consumer), undefined, {
        [stateAnnotations.state]: '{"v":1}',
        [stateAnnotations.lastReason]: 'test',
        [stateAnnotations.lastActive]: new Date(0).toISOString(),
        [stateAnnotations.lastScale]: `${new Date(0).toISOString()} 2`,
      });

      // Assess
      const after = await readDeployment(admin, ref(consumer));
      expect(after.spec?.replicas).toBe(2);
      expect(after.metadata?.annotations?.[stateAnnotations.lastReason]).toBe('test');
    });

    it('admits spec.replicas through the Deployment itself', async () => {
      // Act
      await patchDeployment(scaler, ref(consumer), { spec: { replicas: 1 } }, 'merge');

      // Assess
      expect((await readDeployment(admin, ref(consumer))).spec?.replicas).toBe(1);
    });

    it('refuses an image change and names the policy', async () => {
      // Act
      const refused = await refusal(
        patchDeployment(scaler, ref(consumer), {
          spec: { template: { spec: { containers: [{ name: 'consumer', image: 'evil.example/x:1' }] } } },
        }),
      );

      // Assess
      expect(refused.message).toMatch(/ValidatingAdmissionPolicy 'm2-consumer-scaler'/);
      expect(refused.message).toMatch(/changed spec\.template; .* may only change replicas/);
      expect(refused.status).toBe(403);
    });

    it('refuses a change of the declared scaling annotations', async () => {
      // Act
      const refused = await refusal(
        patchDeployment(scaler, ref(consumer), {
          metadata: { annotations: { 'scaling.m2-eks-pipeline.io/max-replicas': '999' } },
        }),
      );

      // Assess
      expect(refused.message).toMatch(
        /m2-consumer-scaler refused UPDATE deployments .*changed metadata other than/,
      );
    });

    it('refuses patching a pod: by RBAC, and by the policy where RBAC were to allow it', async () => {
      // Prepare: a consumer pod, looked up afresh for every try (on a fresh cluster its ReplicaSet
      // may not have made one yet, and one can be replaced between the lookup and the patch).
      const currentPod = () =>
        eventually(
          'a consumer pod',
          async () => {
            const pods = kubectlJson<{ items: { metadata: { name: string } }[] }>([
              'get',
              'pods',
              '-n',
              namespace,
              '-l',
              `app.kubernetes.io/name=${consumer}`,
            ]);
            return pods.items[0]?.metadata.name;
          },
          60_000,
        );
      const patchPod = async () =>
        scaler.core
          .patchNamespacedPod(
            {
              namespace,
              name: await currentPod(),
              body: { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-1' } } },
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          )
          .then(() => 'patched');

      // Act
      const byRbac = await patchPod().catch((error: unknown) => String(error));
      await grant(admin, namespace, 'm2:consumer-scaler', [
        { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
      ]);
      const byPolicy = await eventually('the widened RBAC in effect', async () => {
        const message = await patchPod().catch((error: unknown) => String(error));
        // A pod gone between lookup and patch (404) says nothing about the policy: try another.
        return /cannot patch resource|not found|NotFound/.test(message) ? undefined : message;
      });

      // Assess
      // The generated client quotes the apiserver's Status as escaped JSON.
      expect(byRbac).toMatch(/m2:consumer-scaler\W+ cannot patch resource \W+pods/);
      expect(byPolicy).toMatch(
        /ValidatingAdmissionPolicy 'm2-consumer-scaler'.*m2-consumer-scaler refused UPDATE pods .*may only change the replicas/,
      );
    });
  });

  describe('m2-rollout and m2-rollout-images', () => {
    it('admits the rollout’s patch: an image of the shop’s repository, its annotations and change-cause', async () => {
      // Act
      for (const target of [web, cronJob]) {
        await updateTarget(rollout, namespace, target, (s) => ({
          annotations: {
            [rolloutAnnotations.release]: 'r1',
            [rolloutAnnotations.recorded]: recordValue('r1', containerImagesOf(s.template, repository)),
            [rolloutAnnotations.changeCause]: `m2-eks-pipeline rollout r1: ${release}`,
          },
          images: allRunning(containerImagesOf(s.template, repository), release),
          condition: 'object',
        }));
      }

      // Assess
      const deployment = await readDeployment(admin, ref(web.name));
      expect(deployment.spec?.template.spec?.containers.map((c) => c.image)).toEqual([release, release]);
      expect(deployment.metadata?.annotations?.[rolloutAnnotations.changeCause]).toMatch(/rollout r1/);
      const cron = await readCronJob(admin, ref(cronJob.name));
      expect(cron.spec?.jobTemplate.spec?.template.spec?.containers.map((c) => c.image)).toEqual([release]);
    });

    it('admits the migration Job built from the m2-migrate template', async () => {
      // Prepare
      const template = await readCronJob(rollout, ref('m2-migrate'));
      const name = migrationJobName('admitted');

      // Act
      const job = await createJob(rollout, namespace, migrationJob(template, name, repository, release));

      // Assess
      expect(job.spec?.template.spec?.containers.map((c) => c.image)).toEqual([release]);
    });

    it('admits deleting a migration Job, and refuses deleting any other Job of the shop', async () => {
      // Prepare: a migration Job of the rollout's, and a Job of the shop's own (say a reindex).
      const template = await readCronJob(rollout, ref('m2-migrate'));
      const name = migrationJobName('abandoned');
      await createJob(rollout, namespace, migrationJob(template, name, repository, release));
      const other = `reindex-${randomBytes(3).toString('hex')}`;
      await createJob(admin, namespace, {
        metadata: { name: other, labels: { 'app.kubernetes.io/component': 'migration' } },
        spec: {
          suspend: true,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: release }] } },
        },
      });

      // Act
      await deleteJob(rollout, ref(name));
      const refused = await refusal(deleteJob(rollout, ref(other)));

      // Assess
      expect(refused.message).toMatch(
        /ValidatingAdmissionPolicy 'm2-rollout'.*m2-rollout refused DELETE jobs/,
      );
      expect(kubectl(['get', 'job', other, '-n', namespace, '-o', 'name'])).toMatch(other);
    });

    it('refuses an image from another repository, naming the policy and the image', async () => {
      // Act
      const refused = await refusal(
        updateTarget(rollout, namespace, web, (s) => ({
          images: allRunning(containerImagesOf(s.template, repository), 'evil.example/magento:2.4.8'),
          condition: 'object',
        })),
      );

      // Assess
      expect(refused.message).toMatch(/ValidatingAdmissionPolicy 'm2-rollout'/);
      expect(refused.message).toContain(`image nginx: evil.example/magento:2.4.8 (ran ${release})`);
      expect(refused.message).toMatch(/is not in the repository the container runs/);
    });

    it.each<[string, (c: V1Container) => V1Container]>([
      ['resources', (c) => ({ ...c, resources: { limits: { cpu: '8', memory: '16Gi' } } })],
      ['command', (c) => ({ ...c, command: ['/bin/sh', '-c', 'cat /proc/1/environ'] })],
      ['env', (c) => ({ ...c, env: [...(c.env ?? []), { name: 'EXTRA', value: '1' }] })],
    ])('refuses a change of the containers’ %s along with the image', async (_field, edit) => {
      // Act
      const refused = await refusal(
        writeWebTemplate((template) =>
          editFirstContainer(withReleaseImage(template, repository, `${repository}:2.4.9`).template, edit),
        ),
      );

      // Assess
      expect(refused.message).toMatch(/ValidatingAdmissionPolicy 'm2-rollout'/);
      expect(refused.message).toMatch(/changed container \S+ beyond its image/);
    });

    it('refuses a change outside the containers: volumes, labels, replicas', async () => {
      // Act
      const volumes = await refusal(
        writeWebTemplate((template) => ({
          ...template,
          spec: {
            ...(template.spec ?? { containers: [] }),
            volumes: [...(template.spec?.volumes ?? []), { name: 's', secret: { secretName: 'm2-secrets' } }],
          },
        })),
      );
      const replicas = await refusal(
        patchDeployment(rollout, ref(web.name), { spec: { replicas: 0 } }, 'merge'),
      );

      // Assess
      expect(volumes.message).toMatch(
        /m2-rollout refused UPDATE deployments .*changed the pod template beyond/,
      );
      expect(replicas.message).toMatch(
        /m2-rollout refused UPDATE deployments .*changed the spec outside the pod template/,
      );
    });

    it.each<[string, (job: ReturnType<typeof migrationJob>) => void, RegExp]>([
      [
        'a command of its own',
        (job) => {
          const container = job.spec?.template.spec?.containers[0];
          if (container) container.command = ['/bin/sh', '-c', 'env'];
        },
        /the Job's containers differ from those of cronjob\/m2-migrate/,
      ],
      [
        'an image of another repository',
        (job) => {
          const container = job.spec?.template.spec?.containers[0];
          if (container) container.image = 'evil.example/magento:2.4.8';
        },
        /image evil\.example\/magento:2\.4\.8 is not in the shop's repository/,
      ],
      [
        'another name',
        (job) => {
          if (job.metadata) job.metadata.name = 'debug-shell';
        },
        /a Job of the rollout is named m2-migrate-<release>/,
      ],
    ])('refuses a Job with %s', async (_case, edit, message) => {
      // Prepare
      const template: V1CronJob = await readCronJob(rollout, ref('m2-migrate'));
      const job = migrationJob(
        template,
        migrationJobName(randomBytes(3).toString('hex')),
        repository,
        release,
      );
      edit(job);

      // Act
      const refused = await refusal(createJob(rollout, namespace, job));

      // Assess
      expect(refused.message).toMatch(/ValidatingAdmissionPolicy 'm2-rollout-images'/);
      expect(refused.message).toMatch(message);
    });

    it('admits the cron verification Job built from m2-cron and its deletion, and refuses deleting a look-alike', async () => {
      // Prepare: a Job of the shop's own named like a verification, without its label.
      const cron = await readCronJob(rollout, ref('m2-cron'));
      const lookAlike = cronVerificationJobName('m2-cron', `x${randomBytes(3).toString('hex')}`);
      await createJob(admin, namespace, {
        metadata: { name: lookAlike, labels: { 'app.kubernetes.io/component': 'cron' } },
        spec: {
          suspend: true,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: release }] } },
        },
      });

      // Act
      const job = await createJob(
        rollout,
        namespace,
        cronVerificationJob(cron, 'admitted', repository, release),
      );
      await deleteJob(rollout, ref(job.metadata?.name ?? ''));
      const refused = await refusal(deleteJob(rollout, ref(lookAlike)));

      // Assess
      expect(job.metadata?.labels?.[verifiesLabel]).toBe('m2-cron');
      expect(job.spec?.template.spec?.containers.map((c) => c.image)).toEqual([release]);
      expect(refused.message).toMatch(
        /ValidatingAdmissionPolicy 'm2-rollout'.*m2-rollout refused DELETE jobs/,
      );
      expect(kubectl(['get', 'job', lookAlike, '-n', namespace, '-o', 'name'])).toMatch(lookAlike);
    });

    it.each<[string, (job: ReturnType<typeof cronVerificationJob>) => void, RegExp]>([
      [
        'a command of its own',
        (job) => {
          const container = job.spec?.template.spec?.containers[0];
          if (container) container.command = ['/bin/sh', '-c', 'env'];
        },
        /ValidatingAdmissionPolicy 'm2-rollout-images'.*the Job's containers differ from those of cronjob\/m2-cron/,
      ],
      [
        'another name',
        (job) => {
          if (job.metadata) job.metadata.name = 'debug-shell';
        },
        /ValidatingAdmissionPolicy 'm2-rollout-images'.*a Job of the rollout is named m2-cron-verify-<release>/,
      ],
      [
        'no label naming the CronJob it verifies',
        (job) => {
          delete job.metadata?.labels?.[verifiesLabel];
        },
        /ValidatingAdmissionPolicy 'm2-rollout'.*only creates migration Jobs .* and cron verification Jobs/,
      ],
      [
        'the label naming another CronJob',
        (job) => {
          if (job.metadata?.labels) job.metadata.labels[verifiesLabel] = 'm2-migrate';
        },
        /ValidatingAdmissionPolicy 'm2-rollout'.*only creates migration Jobs .* and cron verification Jobs/,
      ],
    ])('refuses a cron verification Job with %s', async (_case, edit, message) => {
      // Prepare
      const cron: V1CronJob = await readCronJob(rollout, ref('m2-cron'));
      const job = cronVerificationJob(cron, randomBytes(3).toString('hex'), repository, release);
      edit(job);

      // Act
      const refused = await refusal(createJob(rollout, namespace, job));

      // Assess
      expect(refused.message).toMatch(message);
    });

    it('refuses what RBAC were to allow beyond its writes, deleting a Deployment', async () => {
      // Prepare
      await grant(admin, namespace, 'm2:rollout', [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['delete'] },
      ]);

      // Act
      const message = await eventually('the widened RBAC in effect', async () => {
        const text = await rollout.apps
          .deleteNamespacedDeployment({ namespace, name: consumer })
          .then(() => 'deleted')
          .catch((error: unknown) => String(error));
        return /cannot delete resource/.test(text) ? undefined : text;
      });

      // Assess
      expect(message).toMatch(
        /ValidatingAdmissionPolicy 'm2-rollout'.*m2-rollout refused DELETE deployments/,
      );
      const still: V1Deployment = await readDeployment(admin, ref(consumer));
      expect(still.metadata?.name).toBe(consumer);
    });
  });
  describe('m2-rollout and the smoke-check Service', () => {
    const smoke = () => ref(smokeService.name);

    it('admits the smoke Service, a GET through its proxy and its deletion', async () => {
      // Prepare
      const web = await readDeployment(admin, ref('m2-http'));

      // Act
      await createService(rollout, namespace, smokeServiceFor(web, 'abc123'));
      const reached = await getThroughServiceProxy(rollout, smoke(), smokeService.port, '/').then(
        () => 'answered',
        (error: unknown) => error,
      );
      await deleteService(rollout, smoke());

      // Assess: it selects no pod (and KWOK pods serve nothing), so the apiserver admitted the request
      // and reached no backend (503); a refusal would have been a 403.
      expect(reached).not.toBeInstanceOf(ForbiddenError);
      expect(String(reached)).toMatch(/services\/proxy .*m2-http-smoke:http/);
      expect(
        kubectlJson<{ items: unknown[] }>([
          'get',
          'services',
          '-n',
          namespace,
          '-l',
          'app.kubernetes.io/name=m2-http-smoke',
        ]).items,
      ).toEqual([]);
    });

    it.each([
      ['another name', { metadata: { name: 'm2-http-canary' } }],
      ['a selector of every web pod', { spec: { selector: { 'app.kubernetes.io/name': 'm2-http' } } }],
      ['type LoadBalancer', { spec: { type: 'LoadBalancer' } }],
      ['an external IP', { spec: { externalIPs: ['192.0.2.10'] } }],
      ['a finalizer', { metadata: { finalizers: ['example.com/keep'] } }],
    ] as [string, { metadata?: V1ObjectMeta; spec?: V1ServiceSpec }][])(
      'refuses a Service with %s, naming the policy',
      async (_title, change) => {
        // Prepare
        const base = smokeServiceFor(await readDeployment(admin, ref('m2-http')), 'abc123');
        const service: V1Service = {
          ...base,
          metadata: { ...base.metadata, ...change.metadata },
          spec: { ...base.spec, ...change.spec },
        };

        // Act
        const refused = await refusal(createService(rollout, namespace, service));

        // Assess
        expect(refused.message).toMatch(
          /ValidatingAdmissionPolicy 'm2-rollout'.*only creates the Service m2-http-smoke, of type ClusterIP, selecting one ReplicaSet/,
        );
      },
    );

    it('refuses a GET through the proxy of another Service: by RBAC, and by the policy where RBAC were to allow it', async () => {
      // Prepare
      const viaShopService = () =>
        getThroughServiceProxy(rollout, ref('m2-http'), 'http', '/').then(
          () => 'answered',
          (error: unknown) => String(error),
        );
      const byRbac = await viaShopService();
      const name = 'test-m2-rollout-proxy';
      await admin.rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name },
          rules: [{ apiGroups: [''], resources: ['services/proxy'], verbs: ['get'] }],
        },
      });
      await admin.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'm2:rollout' }],
        },
      });

      // Act
      const byPolicy = await eventually('the widened RBAC in effect', async () => {
        const text = await viaShopService();
        return /cannot get resource/.test(text) ? undefined : text;
      });

      // Assess
      expect(byRbac).toMatch(/cannot get resource \W*services\/proxy/);
      expect(byPolicy).toMatch(
        /ValidatingAdmissionPolicy 'm2-rollout'.*m2-rollout refused CONNECT services\/proxy/,
      );
    });
  });

  describe('m2-rollout-preview and the preview’s writes in m2-rollout', () => {
    const previewName = previewNameOf(web.name);
    const previewImage = `${repository}:2.4.9`;
    const smokeChecks = '[{"path":"/"}]';
    const smokeBudget = '30';
    /** The preview as the rollout builds it: from m2-http as the lib's cluster client reads it. */
    const preview = async (): Promise<V1Deployment> =>
      previewDeploymentFor(
        await readDeployment(rollout, ref(web.name)),
        'r-preview',
        previewImage,
        repository,
      );
    const removePreview = () =>
      kubectl(['delete', 'deployment', previewName, '-n', namespace, '--ignore-not-found', '--wait=true']);
    const firstContainer = (d: V1Deployment): V1Container => {
      const container = d.spec?.template.spec?.containers[0];
      if (container === undefined) throw new Error('preview without containers');
      return container;
    };
    const podSpec = (d: V1Deployment): V1PodSpec => {
      const spec = d.spec?.template.spec;
      if (spec === undefined) throw new Error('preview without a pod spec');
      return spec;
    };

    beforeAll(async () => {
      // m2-http's smoke checks, which the preview carries (the example shop declares none).
      await patchDeployment(
        admin,
        ref(web.name),
        {
          metadata: {
            annotations: {
              [smokeAnnotations.checks]: smokeChecks,
              [smokeAnnotations.budgetSeconds]: smokeBudget,
            },
          },
        },
        'merge',
      );
      // The policy reads m2-http from the apiserver's informer: wait until it has the annotations
      // (a server-side dry run goes through admission and stores nothing).
      await eventually('m2-http’s smoke annotations in the policy’s parameter', async () =>
        rollout.apps
          .createNamespacedDeployment({ namespace, body: await preview(), dryRun: 'All' })
          .then(() => true),
      );
    });

    it('admits the preview exactly as previewDeploymentFor builds it, and its deletion', async () => {
      // Prepare
      removePreview();
      const built = await preview();

      // Act
      const created = await createDeployment(rollout, namespace, built);
      await deleteDeployment(rollout, ref(previewName));

      // Assess
      expect(created.metadata?.name).toBe(previewName);
      expect(created.metadata?.annotations).toEqual({
        [rolloutAnnotations.release]: 'r-preview',
        [smokeAnnotations.checks]: smokeChecks,
        [smokeAnnotations.budgetSeconds]: smokeBudget,
      });
      expect(created.spec?.template.spec?.containers.map((c) => c.image)).toEqual([
        previewImage,
        previewImage,
      ]);
      expect(created.spec?.replicas).toBe(1);
      const gone = await readDeployment(admin, ref(previewName)).catch((error: unknown) => error);
      expect(gone).toBeInstanceOf(NotFoundError);
    });

    it.each<[string, (d: V1Deployment) => void | Promise<void>, RegExp]>([
      [
        'another name',
        (d) => {
          if (d.metadata) d.metadata.name = 'm2-http-canary';
        },
        /m2-rollout(-preview)? refused CREATE deployments .*(only creates the preview Deployment m2-http-preview|is named m2-http-preview)/,
      ],
      [
        'no preview-of label',
        (d) => {
          delete d.metadata?.labels?.[previewOfLabel];
        },
        /ValidatingAdmissionPolicy 'm2-rollout'.*only creates the preview Deployment m2-http-preview, labelled m2-eks-pipeline\.io\/preview-of: m2-http/,
      ],
      [
        'a label of its own',
        (d) => {
          if (d.metadata?.labels) d.metadata.labels['app.kubernetes.io/component'] = 'web';
        },
        /m2-rollout-preview refused CREATE deployments .*carries exactly the labels/,
      ],
      [
        'a finalizer',
        (d) => {
          if (d.metadata) d.metadata.finalizers = ['example.com/keep'];
        },
        /m2-rollout-preview refused CREATE deployments .*\(no finalizers, no generateName\)/,
      ],
      [
        'a smoke budget other than m2-http’s',
        (d) => {
          if (d.metadata?.annotations) d.metadata.annotations[smokeAnnotations.budgetSeconds] = '600';
        },
        /m2-rollout-preview refused CREATE deployments .*smoke-check annotations .*nothing else/,
      ],
      [
        'an ownerReference to another Deployment',
        async (d) => {
          const other = await readDeployment(admin, ref(consumer));
          const [owner] = d.metadata?.ownerReferences ?? [];
          if (d.metadata && owner)
            d.metadata.ownerReferences = [{ ...owner, name: consumer, uid: other.metadata?.uid ?? '' }];
        },
        /m2-rollout-preview refused CREATE deployments .*owned by deployment\/m2-http \(uid \S+, not as its controller\) and nothing else/,
      ],
      [
        'replicas 2',
        (d) => {
          if (d.spec) d.spec.replicas = 2;
        },
        /m2-rollout-preview refused CREATE deployments .*runs 1 replica, strategy Recreate/,
      ],
      [
        'a selector of every web pod',
        (d) => {
          const labels = d.spec?.selector.matchLabels;
          const podLabels = d.spec?.template.metadata?.labels;
          if (labels && podLabels) {
            labels[nameLabel] = web.name;
            podLabels[nameLabel] = web.name;
          }
        },
        /m2-rollout-preview refused CREATE deployments .*selects by deployment\/m2-http's matchLabels with app\.kubernetes\.io\/name: m2-http-preview/,
      ],
      [
        'a command of its own',
        (d) => {
          firstContainer(d).command = ['/bin/sh', '-c', 'cat /proc/1/environ'];
        },
        /m2-rollout-preview refused CREATE deployments .*container nginx differs from deployment\/m2-http's beyond its image/,
      ],
      [
        'an env of its own',
        (d) => {
          const c = firstContainer(d);
          c.env = [...(c.env ?? []), { name: 'EXTRA', value: '1' }];
        },
        /m2-rollout-preview refused CREATE deployments .*container nginx differs/,
      ],
      [
        // `privileged: true` itself is refused by this apiserver (--allow-privileged off) before admission.
        'a root container with CAP_SYS_ADMIN',
        (d) => {
          firstContainer(d).securityContext = { runAsUser: 0, capabilities: { add: ['SYS_ADMIN'] } };
        },
        /m2-rollout-preview refused CREATE deployments .*container nginx differs/,
      ],
      [
        'an added init container',
        (d) => {
          const { name: _name, image } = firstContainer(d);
          podSpec(d).initContainers = [{ name: 'init', image }];
        },
        /m2-rollout-preview refused CREATE deployments .*container \(containers added or removed\) differs/,
      ],
      [
        'another service account',
        (d) => {
          podSpec(d).serviceAccountName = 'default';
        },
        /m2-rollout-preview refused CREATE deployments .*pod spec differs from deployment\/m2-http's beyond its containers/,
      ],
      [
        'a volume of its own',
        (d) => {
          const spec = podSpec(d);
          spec.volumes = [...(spec.volumes ?? []), { name: 's', secret: { secretName: 'm2-secrets' } }];
        },
        /m2-rollout-preview refused CREATE deployments .*pod spec differs/,
      ],
      [
        'the host network',
        (d) => {
          podSpec(d).hostNetwork = true;
        },
        /m2-rollout-preview refused CREATE deployments .*pod spec differs/,
      ],
      [
        'an image of another repository',
        (d) => {
          firstContainer(d).image = 'evil.example/magento:2.4.9';
        },
        /m2-rollout-preview refused CREATE deployments .*image nginx: evil\.example\/magento:2\.4\.9 \(m2-http runs \S+\) is not in the repository/,
      ],
    ])('refuses a preview with %s', async (_case, edit, message) => {
      // Prepare
      removePreview();
      const built = await preview();
      await edit(built);

      // Act
      const refused = await refusal(createDeployment(rollout, namespace, built));

      // Assess
      expect(refused.message).toMatch(message);
      expect(refused.status).toBe(403);
    });

    // RBAC already refuses both (rbacCases: delete only m2-http-preview); this is the policy behind it.
    it('refuses deleting another Deployment where RBAC were to allow it', async () => {
      // Prepare
      const name = 'test-m2-rollout-delete';
      await admin.rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name },
          rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['delete'] }],
        },
      });
      await admin.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'm2:rollout' }],
        },
      });

      // Act
      const byPolicy = await Promise.all(
        [web.name, consumer].map((target) =>
          eventually('the widened RBAC in effect', async () => {
            const refused = await refusal(deleteDeployment(rollout, ref(target)));
            return /cannot delete resource/.test(refused.message) ? undefined : refused;
          }),
        ),
      );

      // Assess
      expect(byPolicy.map((r) => r.message)).toEqual([
        expect.stringMatching(
          /ValidatingAdmissionPolicy 'm2-rollout'.*m2-rollout refused DELETE deployments in \S+ \(m2-http\): .*make and delete its preview Deployment m2-http-preview/,
        ),
        expect.stringMatching(/m2-rollout refused DELETE deployments in \S+ \(m2-consumer-media\)/),
      ]);
      expect((await readDeployment(admin, ref(web.name))).metadata?.name).toBe(web.name);
    });
  });
});
