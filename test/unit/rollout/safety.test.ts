import { describe, expect, it } from 'vitest';
import { signContinuationToken } from '../../../lib/rollout/continuationToken.ts';
import { handOverAnnotation } from '../../../lib/rollout/releaseHistory.ts';
import { rolloutAnnotations } from '../../../lib/rollout/targets.ts';
import type { TokenKeySource } from '../../../lib/rollout/tokenKey.ts';
import { pipelineName, tokenKeyOf } from './fakes.ts';
import {
  allImages,
  consumers,
  failureOf,
  finishedOn,
  invoke,
  lastToken,
  namespace,
  newImage,
  newShop,
  oldImage,
  type Shop,
} from './shop.ts';

const params = { namespace, imageTag: '2.4.8', migrate: 'never' };

/** Every resourceVersion of the shop's targets and Lease: equal before and after = nothing changed. */
const versions = (shop: Shop) => ({
  web: shop.cluster.objects('deployments', namespace, 'app=m2-http')[0]?.metadata?.resourceVersion,
  consumers: consumers.map(
    (name) => shop.cluster.objects('deployments', namespace, `app=${name}`)[0]?.metadata?.resourceVersion,
  ),
  lease: shop.cluster.lease(namespace, 'm2-rollout')?.metadata?.resourceVersion,
  writes: shop.cluster.templateWrites.length,
});

/** Release `release-1` handed over once web is on the new image; returns its token. */
async function handedOver(shop: Shop, jobId = 'release-1'): Promise<string> {
  const untilWebPatched = () =>
    shop.cluster.images('deployments', namespace, 'm2-http')[0] === newImage ? 0 : 15 * 60_000;
  const first = await invoke(shop, { id: jobId, params }, untilWebPatched);
  expect(first.outcome).toBe('continued');
  return lastToken(shop)?.raw ?? '';
}

const reportOf = (shop: Shop, jobId: string) => shop.results.reports.find((r) => r.jobId === jobId);

describe('continuation integrity', () => {
  it('refuses a tampered token with a failure report and changes nothing', async () => {
    // Prepare
    const shop = newShop();
    const token = await handedOver(shop);
    const tampered = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    const before = versions(shop);

    // Act
    const result = await invoke(shop, { id: 'continuation-1', params, continuationToken: tampered });

    // Assess
    expect(result.outcome).toBe('refused');
    expect(failureOf(shop, 'continuation-1')).toMatch(
      /continuation refused \(tampered\).*nothing was changed/,
    );
    expect(versions(shop)).toEqual(before);
  });

  it('refuses a token for another image than the job names, changing nothing', async () => {
    // Prepare
    const shop = newShop();
    const token = await handedOver(shop);
    const before = versions(shop);

    // Act
    const result = await invoke(shop, {
      id: 'continuation-1',
      params: { ...params, imageTag: '2.4.9' },
      continuationToken: token,
    });

    // Assess
    expect(result.outcome).toBe('refused');
    expect(failureOf(shop, 'continuation-1')).toMatch(/\(foreign\).*other UserParameters/);
    expect(versions(shop)).toEqual(before);
  });

  it("refuses a token handed to a job of another pipeline (the job's pipeline comes from GetJobDetails)", async () => {
    // Prepare
    const shop = newShop();
    const token = await handedOver(shop);
    const before = versions(shop);
    const userParameters = JSON.stringify(params);
    shop.results.createJob('other-pipeline-job', {
      pipelineName: 'another-shop-release',
      userParameters,
      continuationToken: token,
    });

    // Act
    const result = await invoke(shop, {
      id: 'other-pipeline-job',
      params,
      continuationToken: token,
      created: false,
    });

    // Assess
    expect(result.outcome).toBe('refused');
    expect(failureOf(shop, 'other-pipeline-job')).toMatch(/\(foreign\).*pipeline shop-a-release/);
    expect(versions(shop)).toEqual(before);
  });

  it.each([
    ['UserParameters', { userParameters: JSON.stringify({ ...params, imageTag: '2.4.9' }) }],
    [
      'continuation token',
      { userParameters: JSON.stringify(params), continuationToken: 'what-codepipeline-holds' },
    ],
  ])('refuses an event whose %s differ from the job CodePipeline has under its id', async (_, job) => {
    // Prepare
    const shop = newShop();
    const token = await handedOver(shop);
    shop.results.createJob('continuation-1', job);
    const before = versions(shop);

    // Act
    const result = await invoke(shop, {
      id: 'continuation-1',
      params,
      continuationToken: token,
      created: false,
    });

    // Assess
    expect(result.outcome).toBe('refused');
    expect(versions(shop)).toEqual(before);
  });

  it('refuses an older token of the release replayed after a newer hand-over', async () => {
    // Prepare: release-1 hands over (token 1), continuation-1 hands over again (token 2).
    const shop = newShop();
    const token1 = await handedOver(shop);
    await invoke(shop, { id: 'continuation-1', params, continuationToken: token1 }, () => 0);
    expect(lastToken(shop)?.state.release).toBe('release-1');
    const before = versions(shop);

    // Act: Lambda's retry of continuation-1's event (token 1) arrives late.
    const replay = await invoke(shop, { id: 'continuation-1b', params, continuationToken: token1 });

    // Assess
    expect(replay.outcome).toBe('refused');
    expect(failureOf(shop, 'continuation-1b')).toMatch(
      /\(replayed\).*handed over by job release-1, but release release-1 last handed over in job continuation-1/,
    );
    expect(versions(shop)).toEqual(before);
  });

  it('refuses a repeated first invocation once the release has handed over', async () => {
    // Prepare
    const shop = newShop();
    await handedOver(shop);
    const before = versions(shop);

    // Act
    const replay = await invoke(shop, { id: 'release-1', params });

    // Assess: CodePipeline already has release-1's continuation, so the refusal itself is refused.
    expect(replay).toMatchObject({ outcome: 'refused', reported: 'already-reported' });
    expect(versions(shop)).toEqual(before);
  });

  it('accepts a token signed before the key was rotated in Secrets Manager by reading the key again', async () => {
    // Prepare: the token is signed with key B; the cached key is still A, a fresh read gives B.
    const shop = newShop();
    const keyB = Buffer.from('b'.repeat(32));
    const rotating: TokenKeySource = {
      tokenKey: async (read = {}) => (read.fresh === true ? keyB : Buffer.from('a'.repeat(32))),
    };
    const token = signContinuationToken(
      {
        v: 1,
        release: 'release-9',
        phase: 'preflight',
        phaseStartedAt: shop.cluster.clock.now(),
        image: newImage,
        targets: [],
        patched: [],
        rolledBack: [],
        notRolledBack: [],
      },
      { pipelineName, namespace, userParameters: JSON.stringify(params) },
      'release-9',
      keyB,
    );
    shop.cluster.addLease(
      namespace,
      'm2-rollout',
      { leaseDurationSeconds: 900 },
      {
        [handOverAnnotation]: 'release-9 release-9',
      },
    );

    // Act
    const { runRollout, defaultRolloutSettings } = await import('../../../lib/rollout/executor.ts');
    shop.results.createJob('continuation-9', {
      userParameters: JSON.stringify(params),
      continuationToken: token,
    });
    const result = await runRollout(
      { id: 'continuation-9', userParameters: JSON.stringify(params), continuationToken: token },
      {
        cluster: shop.cluster,
        results: shop.results,
        tokenKey: rotating,
        log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        now: shop.cluster.clock.now,
        sleep: shop.cluster.clock.sleep,
        remainingMs: () => 15 * 60_000,
      },
      defaultRolloutSettings,
    );

    // Assess
    expect(result.outcome).toBe('succeeded');
  });

  it('does nothing for a job CodePipeline does not know (GetJobDetails: JobNotFound)', async () => {
    // Prepare
    const shop = newShop();

    // Act
    const result = await invoke(shop, { id: 'made-up-job', params, created: false });

    // Assess
    expect(result.outcome).toBe('abandoned');
    expect(shop.results.reports).toEqual([]);
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(shop.cluster.lease(namespace, 'm2-rollout')).toBeUndefined();
  });
});

describe('replays, retries and abandoned jobs', () => {
  it('reports the image before the release as previousImage after a retried first invocation', async () => {
    // Prepare: the first invocation patches web, then cannot tell CodePipeline (throttled) and fails.
    const shop = newShop();
    let throttled = true;
    const succeed = shop.results.succeed.bind(shop.results);
    shop.results.succeed = async (jobId, report) => {
      if (!throttled) return succeed(jobId, report);
      throttled = false;
      throw new Error('CodePipeline: ThrottlingException');
    };
    const untilWebPatched = () =>
      shop.cluster.images('deployments', namespace, 'm2-http')[0] === newImage ? 0 : 15 * 60_000;
    await expect(invoke(shop, { id: 'release-1', params }, untilWebPatched)).rejects.toThrow('Throttling');

    // Act: Lambda retries the same event.
    const retry = await invoke(shop, { id: 'release-1', params });

    // Assess
    expect(retry.outcome).toBe('succeeded');
    const report = reportOf(shop, 'release-1');
    expect(report?.operation === 'success' ? report.report.outputVariables : undefined).toMatchObject({
      previousImage: oldImage,
      newImage,
    });
  });

  it('releases the Lease and records the release as abandoned when CodePipeline refuses the hand-over', async () => {
    // Prepare: the pipeline execution was stopped and abandoned while release-1 ran.
    const shop = newShop();
    shop.results.abandon('release-1');

    // Act
    const result = await handedOverOrNot(shop);

    // Assess
    expect(result.outcome).toBe('abandoned');
    expect(result.message).toMatch(/left on the new image: shop-a\/deployment\/m2-http/);
    expect(shop.cluster.lease(namespace, 'm2-rollout')?.spec?.holderIdentity).toBeUndefined();
    expect(finishedOn(shop)).toEqual([['release-1', 'abandoned']]);
  });
});

/** release-1 until it hands over after web, whatever CodePipeline answers. */
function handedOverOrNot(shop: Shop) {
  const untilWebPatched = () =>
    shop.cluster.images('deployments', namespace, 'm2-http')[0] === newImage ? 0 : 15 * 60_000;
  return invoke(shop, { id: 'release-1', params }, untilWebPatched);
}

describe('hand-over always replies', () => {
  it('reports one failure naming what stays on the new image when the token key cannot be read at hand-over', async () => {
    // Prepare: the key reads in preflight, then Secrets Manager fails.
    const shop = newShop();
    let reads = 0;
    const failing: TokenKeySource = {
      tokenKey: async () => {
        reads += 1;
        if (reads > 1) throw new Error('SecretsManager: ServiceUnavailable');
        return tokenKeyOf().tokenKey();
      },
    };
    const { runRollout, defaultRolloutSettings } = await import('../../../lib/rollout/executor.ts');
    shop.results.createJob('release-1', { userParameters: JSON.stringify(params) });
    const untilWebPatched = () =>
      shop.cluster.images('deployments', namespace, 'm2-http')[0] === newImage ? 0 : 15 * 60_000;

    // Act
    const result = await runRollout(
      { id: 'release-1', userParameters: JSON.stringify(params), continuationToken: undefined },
      {
        cluster: shop.cluster,
        results: shop.results,
        tokenKey: failing,
        log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        now: shop.cluster.clock.now,
        sleep: shop.cluster.clock.sleep,
        remainingMs: untilWebPatched,
      },
      defaultRolloutSettings,
    );

    // Assess
    expect(result.outcome).toBe('failed');
    expect(shop.results.reports).toHaveLength(1);
    expect(failureOf(shop, 'release-1')).toMatch(
      /stopped in phase web: SecretsManager: ServiceUnavailable\. Left on the new image, not rolled back: shop-a\/deployment\/m2-http\./,
    );
    expect(finishedOn(shop)).toEqual([['release-1', 'failed']]);
    expect(shop.cluster.lease(namespace, 'm2-rollout')?.spec?.holderIdentity).toBeUndefined();
  });

  it('reports one failure when the Lease cannot be renewed at hand-over', async () => {
    // Prepare
    const shop = newShop();
    const untilWebPatched = () => {
      if (shop.cluster.images('deployments', namespace, 'm2-http')[0] !== newImage) return 15 * 60_000;
      shop.cluster.fail({ verb: 'update', resource: 'leases', status: 503, times: 20 });
      return 0;
    };

    // Act
    const result = await invoke(shop, { id: 'release-1', params }, untilWebPatched);

    // Assess
    expect(result.outcome).toBe('failed');
    expect(shop.results.reports.map((r) => [r.jobId, r.operation])).toEqual([['release-1', 'failure']]);
    expect(failureOf(shop, 'release-1')).toMatch(
      /stopped in phase web: update leases.*503.*Left on the new image, not rolled back: shop-a\/deployment\/m2-http\./,
    );
  });
});

describe('rollback per target', () => {
  /** Release-1 hands over once the media consumer is patched; its continuation finds it failing. */
  async function failingConsumer(shop: Shop) {
    shop.cluster.setImageBehaviour(newImage, { run: 'never-ready' }, 'm2-consumer-media');
    const untilMediaPatched = () =>
      shop.cluster.images('deployments', namespace, 'm2-consumer-media')[0] === newImage ? 0 : 15 * 60_000;
    await invoke(shop, { id: 'release-1', params: { ...params, timeoutSeconds: 30 } }, untilMediaPatched);
    return lastToken(shop)?.raw ?? '';
  }

  it('retries a target whose restore fails with a server error, and restores it', async () => {
    // Prepare
    const shop = newShop();
    const token = await failingConsumer(shop);
    shop.cluster.fail({ verb: 'patch', resource: 'deployments', name: 'm2-http', status: 500, times: 2 });

    // Act
    const result = await invoke(shop, {
      id: 'continuation-1',
      params: { ...params, timeoutSeconds: 30 },
      continuationToken: token,
    });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(allImages(shop).web).toEqual([oldImage, oldImage]);
    expect(failureOf(shop, 'continuation-1')).toMatch(
      /Rolled back to the recorded images: shop-a\/deployment\/m2-consumer-media, shop-a\/deployment\/m2-consumer-export, shop-a\/deployment\/m2-http\.$/,
    );
  });

  it('still restores the others when one target cannot be restored, and says exactly which was not', async () => {
    // Prepare: the web Deployment refuses every write from now on.
    const shop = newShop();
    const token = await failingConsumer(shop);
    shop.cluster.fail({
      verb: 'patch',
      resource: 'deployments',
      name: 'm2-http',
      status: 403,
      message: 'deployments.apps "m2-http" is forbidden: ValidatingAdmissionPolicy denied',
      times: 100,
    });

    // Act
    const result = await invoke(shop, {
      id: 'continuation-1',
      params: { ...params, timeoutSeconds: 30 },
      continuationToken: token,
    });

    // Assess
    const message = failureOf(shop, 'continuation-1') ?? '';
    expect(result.outcome).toBe('failed');
    expect(allImages(shop)).toMatchObject({
      web: [newImage, newImage],
      consumers: [
        [oldImage, oldImage],
        [oldImage, oldImage],
      ],
    });
    expect(message).toMatch(
      /Rolled back to the recorded images: shop-a\/deployment\/m2-consumer-media, shop-a\/deployment\/m2-consumer-export\./,
    );
    expect(message).toMatch(/NOT rolled back: shop-a\/deployment\/m2-http \(.*forbidden/);
    expect(message).not.toMatch(/recorded images: [^.]*m2-http/);
    expect(shop.cluster.annotations('deployments', namespace, 'm2-http')[rolloutAnnotations.release]).toBe(
      'release-1',
    );
  });
});
