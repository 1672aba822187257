import { execFileSync } from 'node:child_process';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type V1Deployment, type V1EndpointSlice, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeContinuationToken } from '../../../lib/rollout/continuationToken.ts';
import { adminCluster, eventually, roleArns, roleCluster, type TestCluster } from '../../helpers/cluster.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { kubectl, kubectlJson } from '../manifests/cluster.ts';
import {
  applyShop,
  deleteShop,
  imagesOf,
  initialImage,
  invokeRollout,
  newJobId,
  recordedResult,
  recordedResults,
  repository,
  shopNamespace,
  templateOf,
} from './rolloutFixture.ts';

let rollout: TestCluster;
let admin: TestCluster;
const namespaces: string[] = [];

const consumers = [
  'm2-consumer-async-operations',
  'm2-consumer-export',
  'm2-consumer-media',
  'm2-consumer-product-updates',
];

async function newShop(blueGreen = '1'): Promise<string> {
  const namespace = shopNamespace();
  namespaces.push(namespace);
  await applyShop(namespace, blueGreen);
  return namespace;
}

interface CapacitySeen {
  readonly minAvailable: number;
  readonly minReadyEndpoints: number;
}

/**
 * Watches m2-http and its Service's EndpointSlices, and records the lowest availableReplicas and
 * the lowest number of Ready endpoints ever observed.
 */
async function watchWebCapacity(namespace: string): Promise<{ stop: () => CapacitySeen }> {
  let minAvailable = Number.POSITIVE_INFINITY;
  let minReadyEndpoints = Number.POSITIVE_INFINITY;
  const readyBySlice = new Map<string, number>();
  const watch = new Watch(admin.kubeConfig);
  const deployments = await watch.watch(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    { fieldSelector: 'metadata.name=m2-http' },
    (_phase: string, d: V1Deployment) => {
      minAvailable = Math.min(minAvailable, d.status?.availableReplicas ?? 0);
    },
    () => undefined,
  );
  const slices = await watch.watch(
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    { labelSelector: 'kubernetes.io/service-name=m2-http' },
    (phase: string, slice: V1EndpointSlice) => {
      const name = slice.metadata?.name ?? '';
      if (phase === 'DELETED') readyBySlice.delete(name);
      else readyBySlice.set(name, (slice.endpoints ?? []).filter((e) => e.conditions?.ready === true).length);
      minReadyEndpoints = Math.min(
        minReadyEndpoints,
        [...readyBySlice.values()].reduce((a, b) => a + b, 0),
      );
    },
    () => undefined,
  );
  return {
    stop: () => {
      deployments.abort();
      slices.abort();
      return { minAvailable, minReadyEndpoints };
    },
  };
}

const deploymentRevision = (namespace: string, name: string): string | undefined =>
  kubectlJson<V1Deployment>(['get', 'deployment', name, '-n', namespace]).metadata?.annotations?.[
    'deployment.kubernetes.io/revision'
  ];

beforeAll(async () => {
  embeddedEnv();
  admin = await adminCluster();
  rollout = await roleCluster(roleArns.rollout);
});

afterAll(() => {
  for (const namespace of namespaces) deleteShop(namespace);
});

describe('rollout on the embedded stack, as m2:rollout', () => {
  it('rolls a good image out to web, consumers and cron, never below full web capacity', async () => {
    // Prepare
    const namespace = await newShop();
    const jobId = newJobId();
    const capacity = await watchWebCapacity(namespace);

    // Act
    const result = await invokeRollout(rollout, { id: jobId, params: { namespace, imageTag: '2.4.8' } });

    // Assess
    const seen = capacity.stop();
    expect(result.outcome).toBe('succeeded');
    const image = `${repository}:2.4.8`;
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([image, image]);
    for (const name of consumers) expect(imagesOf(namespace, 'deployment', name)).toEqual([image]);
    expect(imagesOf(namespace, 'cronjob', 'm2-cron')).toEqual([image]);
    expect(seen.minAvailable).toBeGreaterThanOrEqual(3);
    expect(seen.minReadyEndpoints).toBeGreaterThanOrEqual(3);
    // Both watches saw events (a watch that saw nothing would leave Infinity).
    expect([seen.minAvailable, seen.minReadyEndpoints].every(Number.isFinite)).toBe(true);
    const recorded = await recordedResult(jobId);
    expect(recorded?.operation).toBe('PutJobSuccessResult');
    expect(recorded?.body.outputVariables).toMatchObject({
      previousImage: initialImage,
      newImage: image,
      webRevision: deploymentRevision(namespace, 'm2-http'),
    });
    const lease = kubectlJson<{ spec: { holderIdentity?: string } }>([
      'get',
      'lease',
      'm2-rollout',
      '-n',
      namespace,
    ]);
    expect(lease.spec.holderIdentity).toBeUndefined();
    const migration = kubectlJson<{ status: { succeeded?: number } }>([
      'get',
      'job',
      `m2-migrate-${jobId}`,
      '-n',
      namespace,
    ]);
    expect(migration.status.succeeded).toBe(1);
  });

  it.each([
    ['pull-error', /ImagePullBackOff|ErrImagePull/],
    ['crashloop', /CrashLoopBackOff|restarted/],
    ['never-ready', /deadline/],
  ])(
    'rolls back a %s image on web to the exact previous templates and names pod and reason',
    async (marker, reason) => {
      // Prepare
      const namespace = await newShop();
      const before = {
        web: templateOf(namespace, 'deployment', 'm2-http'),
        consumer: templateOf(namespace, 'deployment', consumers[0] ?? ''),
      };
      const jobId = newJobId();
      const capacity = await watchWebCapacity(namespace);

      // Act
      const result = await invokeRollout(rollout, {
        id: jobId,
        params: { namespace, imageTag: `2.4.8-${marker}`, migrate: 'never', timeoutSeconds: 15 },
      });

      // Assess
      const seen = capacity.stop();
      expect(result.outcome).toBe('failed');
      const recorded = await recordedResult(jobId);
      expect(recorded?.operation).toBe('PutJobFailureResult');
      expect(recorded?.body.failureDetails?.type).toBe('JobFailed');
      expect(recorded?.body.failureDetails?.message).toMatch(reason);
      if (marker !== 'never-ready') expect(recorded?.body.failureDetails?.message).toMatch(/pod m2-http-/);
      // What the report says happened is what happened: web is back, nothing else was touched.
      expect(recorded?.body.failureDetails?.message).toMatch(
        new RegExp(`Rolled back to the recorded images: ${namespace}/deployment/m2-http\\.$`),
      );
      expect(recorded?.body.failureDetails?.message).not.toMatch(/rollback failed|NOT rolled back/);
      expect(templateOf(namespace, 'deployment', 'm2-http')).toEqual(before.web);
      expect(templateOf(namespace, 'deployment', consumers[0] ?? '')).toEqual(before.consumer);
      expect(seen.minAvailable).toBeGreaterThanOrEqual(3);
    },
  );

  it('touches nothing else when the migration fails, and shows the log tail', async () => {
    // Prepare
    const namespace = await newShop();
    const before = templateOf(namespace, 'deployment', 'm2-http');
    const revision = deploymentRevision(namespace, 'm2-http');
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(rollout, {
      id: jobId,
      params: { namespace, imageTag: '2.4.8-job-fail' },
    });

    // Assess
    expect(result.outcome).toBe('failed');
    const message = (await recordedResult(jobId))?.body.failureDetails?.message ?? '';
    expect(message).toMatch(/migration job .*m2-migrate-.* failed/);
    expect(message).toMatch(/log tail/);
    expect(message).toMatch(/Nothing was changed/);
    expect(templateOf(namespace, 'deployment', 'm2-http')).toEqual(before);
    expect(deploymentRevision(namespace, 'm2-http')).toBe(revision);
    expect(imagesOf(namespace, 'cronjob', 'm2-cron')).toEqual([initialImage]);
  });

  it('refuses a migration while blue/green deployment is off, before changing anything', async () => {
    // Prepare
    const namespace = await newShop('0');
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(rollout, { id: jobId, params: { namespace, imageTag: '2.4.8' } });

    // Assess
    expect(result.outcome).toBe('failed');
    expect((await recordedResult(jobId))?.body.failureDetails?.message).toMatch(
      /blue\/green deployment is off/,
    );
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([initialImage, initialImage]);
  });

  it('reports invalid parameters as a ConfigurationError naming the field', async () => {
    // Prepare
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(rollout, {
      id: jobId,
      params: { namespace: 'Not A Name', imageTag: 'x' },
    });

    // Assess
    expect(result.outcome).toBe('configuration-error');
    const recorded = await recordedResult(jobId);
    expect(recorded?.body.failureDetails?.type).toBe('ConfigurationError');
    expect(recorded?.body.failureDetails?.message).toMatch(/^UserParameters\.namespace:/);
  });

  it('continues across invocations when time runs out, and completes', async () => {
    // Prepare: the first invocation has time for preflight only (margin 60 s of a 61 s budget).
    const namespace = await newShop();
    const first = newJobId();
    let calls = 0;

    // Act
    const one = await invokeRollout(
      rollout,
      { id: first, params: { namespace, imageTag: '2.4.9', migrate: 'never' } },
      { remainingMs: () => (calls++ < 1 ? 61_000 : 59_000) },
    );
    const token = (await recordedResult(first))?.body.continuationToken ?? '';
    const second = newJobId();
    const two = await invokeRollout(rollout, {
      id: second,
      params: { namespace, imageTag: '2.4.9', migrate: 'never' },
      continuationToken: token,
    });

    // Assess
    expect(one.outcome).toBe('continued');
    expect(token.length).toBeLessThanOrEqual(2048);
    expect(decodeContinuationToken(token)).toMatchObject({ release: first, phase: 'migrate' });
    expect(two.outcome).toBe('succeeded');
    expect((await recordedResult(second))?.operation).toBe('PutJobSuccessResult');
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([
      `${repository}:2.4.9`,
      `${repository}:2.4.9`,
    ]);
  });

  it('refuses while another execution holds the shop lease', async () => {
    // Prepare: a first execution hands over after preflight and keeps the lease.
    const namespace = await newShop();
    const holder = newJobId();
    await invokeRollout(
      rollout,
      { id: holder, params: { namespace, imageTag: '2.4.9', migrate: 'never' } },
      { remainingMs: () => 59_000 },
    );
    const other = newJobId();

    // Act
    const result = await invokeRollout(rollout, { id: other, params: { namespace, imageTag: '2.5.0' } });

    // Assess
    expect(result.outcome).toBe('refused');
    expect((await recordedResult(other))?.body.failureDetails?.message).toMatch(
      /another rollout holds the lease/,
    );
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([initialImage, initialImage]);
  });

  it('never runs a refused release when its invocation is repeated after the lease holder finished', async () => {
    // Prepare: the holder hands over after preflight; the other release is refused; the holder completes.
    const namespace = await newShop();
    const holder = newJobId();
    const params = { namespace, imageTag: '2.4.9', migrate: 'never' };
    await invokeRollout(rollout, { id: holder, params }, { remainingMs: () => 59_000 });
    const other = newJobId();
    const refused = await invokeRollout(rollout, { id: other, params: { namespace, imageTag: '2.5.0' } });
    const token = (await recordedResult(holder))?.body.continuationToken ?? '';
    const resumed = await invokeRollout(rollout, { id: newJobId(), params, continuationToken: token });

    // Act: Lambda redelivers the refused invocation; the lease is free now.
    const duplicate = await invokeRollout(rollout, { id: other, params: { namespace, imageTag: '2.5.0' } });

    // Assess
    expect(refused.outcome).toBe('refused');
    expect(resumed.outcome).toBe('succeeded');
    expect(duplicate.outcome).toBe('duplicate');
    expect(duplicate.reported).toBe('already-reported');
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([
      `${repository}:2.4.9`,
      `${repository}:2.4.9`,
    ]);
    expect((await recordedResults(other)).map((r) => r.operation)).toEqual(['PutJobFailureResult']);
  });

  it('does not patch twice for a duplicated invocation of a finished job', async () => {
    // Prepare
    const namespace = await newShop();
    const jobId = newJobId();
    const params = { namespace, imageTag: '2.4.8', migrate: 'never' };
    await invokeRollout(rollout, { id: jobId, params });
    const revision = deploymentRevision(namespace, 'm2-http');

    // Act
    const duplicate = await invokeRollout(rollout, { id: jobId, params });

    // Assess
    expect(duplicate.reported).toBe('already-reported');
    expect(deploymentRevision(namespace, 'm2-http')).toBe(revision);
  });
  it('changes nothing for a repeated invocation of an older release after a newer one shipped', async () => {
    // Prepare: release A ships 2.4.8, then release B ships 2.4.9.
    const namespace = await newShop();
    const older = newJobId();
    const newer = newJobId();
    await invokeRollout(rollout, { id: older, params: { namespace, imageTag: '2.4.8', migrate: 'never' } });
    await invokeRollout(rollout, { id: newer, params: { namespace, imageTag: '2.4.9', migrate: 'never' } });
    const before = {
      web: templateOf(namespace, 'deployment', 'm2-http'),
      consumer: templateOf(namespace, 'deployment', consumers[0] ?? ''),
      cron: templateOf(namespace, 'cronjob', 'm2-cron'),
      revision: deploymentRevision(namespace, 'm2-http'),
    };

    // Act: Lambda redelivers release A's first event.
    const duplicate = await invokeRollout(rollout, {
      id: older,
      params: { namespace, imageTag: '2.4.8', migrate: 'never' },
    });

    // Assess
    expect(duplicate.outcome).toBe('duplicate');
    expect(duplicate.reported).toBe('already-reported');
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([
      `${repository}:2.4.9`,
      `${repository}:2.4.9`,
    ]);
    expect(templateOf(namespace, 'deployment', 'm2-http')).toEqual(before.web);
    expect(templateOf(namespace, 'deployment', consumers[0] ?? '')).toEqual(before.consumer);
    expect(templateOf(namespace, 'cronjob', 'm2-cron')).toEqual(before.cron);
    expect(deploymentRevision(namespace, 'm2-http')).toBe(before.revision);
    // The stand-in kept exactly the first verdict for A (it refuses a second one).
    const results = await recordedResults(older);
    expect(results.map((r) => r.operation)).toEqual(['PutJobSuccessResult']);
    const web = kubectlJson<V1Deployment>(['get', 'deployment', 'm2-http', '-n', namespace]);
    expect(web.metadata?.annotations?.['rollout.m2-eks-pipeline.io/release']).toBe(newer);
  });

  it('stops without overwriting a target someone else edited mid-rollout', async () => {
    // Prepare: a rollout that waits (its web pods never become Ready) and an operator's hotfix.
    const namespace = await newShop();
    const jobId = newJobId();
    const running = invokeRollout(rollout, {
      id: jobId,
      params: { namespace, imageTag: '2.4.8-never-ready', migrate: 'never', timeoutSeconds: 120 },
    });
    await eventually('the rollout to patch m2-http', async () =>
      imagesOf(namespace, 'deployment', 'm2-http')[0]?.endsWith('never-ready') ? true : undefined,
    );
    const hotfix = `${repository}:2.4.7-hotfix`;

    // Act
    kubectl(['set', 'image', 'deployment/m2-http', `nginx=${hotfix}`, `php-fpm=${hotfix}`, '-n', namespace]);
    const result = await running;

    // Assess
    expect(result.outcome).toBe('failed');
    expect((await recordedResult(jobId))?.body.failureDetails?.message).toMatch(
      /m2-http was changed by someone else/,
    );
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([hotfix, hotfix]);
  });
  it('takes the image from the input artifact (imageDetail.json) read with the job credentials', async () => {
    // Prepare: a CodeBuild-style artifact ZIP in the (moto) artifact store.
    const namespace = await newShop();
    const env = embeddedEnv();
    const image = `${repository}:2.4.8-from-artifact`;
    const zip = execFileSync('python3', [
      '-c',
      'import io,sys,zipfile\nb=io.BytesIO()\nwith zipfile.ZipFile(b,"w",zipfile.ZIP_DEFLATED) as z: z.writestr("imageDetail.json", sys.argv[1])\nsys.stdout.buffer.write(b.getvalue())',
      JSON.stringify({ ImageURI: image }),
    ]);
    const key = `pipeline/BuildOutput/${newJobId()}.zip`;
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: env.MEDIA_BUCKET, Key: key, Body: zip }));
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(rollout, {
      id: jobId,
      params: { namespace, migrate: 'never' },
      inputArtifact: {
        name: 'BuildOutput',
        bucket: env.MEDIA_BUCKET ?? '',
        key,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      },
    });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(imagesOf(namespace, 'deployment', 'm2-http')).toEqual([image, image]);
    expect((await recordedResult(jobId))?.body.outputVariables?.newImage).toBe(image);
  });

  it('reports a missing image source as a ConfigurationError', async () => {
    // Prepare
    const jobId = newJobId();

    // Act
    const result = await invokeRollout(rollout, { id: jobId, params: { namespace: 'example-shop' } });

    // Assess
    expect(result.outcome).toBe('configuration-error');
    expect((await recordedResult(jobId))?.body.failureDetails?.message).toMatch(/^UserParameters\.image:/);
  });
});
