import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PreflightError } from '../../../lib/rollout/errors.ts';
import {
  nameLabel,
  previewAnnotation,
  previewDeploymentFor,
  previewOfLabel,
  previewWanted,
} from '../../../lib/rollout/preview.ts';
import { smokeAnnotations } from '../../../lib/rollout/smokeChecks.ts';
import { smokeService } from '../../../lib/rollout/smokeTest.ts';
import {
  allImages,
  budget,
  failureOf,
  invoke,
  lastToken,
  namespace,
  newImage,
  newShop,
  oldImage,
  repository,
} from './shop.ts';

const broken = `${repository}:2.4.8-storefront-500`;
const preview = 'm2-http-preview';

const web = (overrides: Partial<V1Deployment['spec']> = {}): V1Deployment => ({
  metadata: {
    name: 'm2-http',
    namespace,
    uid: 'uid-web',
    annotations: { [smokeAnnotations.checks]: '[{"path":"/"}]', 'other/annotation': 'x' },
  },
  spec: {
    selector: { matchLabels: { [nameLabel]: 'm2-http', 'app.kubernetes.io/component': 'web' } },
    template: {
      metadata: { labels: { [nameLabel]: 'm2-http', 'app.kubernetes.io/component': 'web', tier: 'front' } },
      spec: {
        serviceAccountName: 'm2-web',
        containers: [
          { name: 'nginx', image: oldImage },
          { name: 'exporter', image: 'other.example/exporter:1' },
        ],
      },
    },
    ...overrides,
  },
});

describe('previewDeploymentFor', () => {
  it('runs the web pod template with the new image under another name, selected by nothing of the web tier', () => {
    // Act
    const built = previewDeploymentFor(web(), 'rel-1', newImage, repository);

    // Assess
    expect(built.metadata?.name).toBe(preview);
    expect(built.metadata?.labels?.[previewOfLabel]).toBe('m2-http');
    expect(built.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Deployment', name: 'm2-http', uid: 'uid-web', controller: false }),
    ]);
    // The smoke checks travel with it; the web Deployment's other annotations do not.
    expect(built.metadata?.annotations).toEqual({
      'rollout.m2-eks-pipeline.io/release': 'rel-1',
      [smokeAnnotations.checks]: '[{"path":"/"}]',
    });
    expect(built.spec?.replicas).toBe(1);
    expect(built.spec?.selector.matchLabels).toEqual({
      [nameLabel]: preview,
      'app.kubernetes.io/component': 'web',
    });
    // Same labels but the name (the network policies select by component), same pod spec but the image.
    expect(built.spec?.template.metadata?.labels).toEqual({
      [nameLabel]: preview,
      'app.kubernetes.io/component': 'web',
      tier: 'front',
    });
    expect(built.spec?.template.spec).toEqual({
      serviceAccountName: 'm2-web',
      containers: [
        { name: 'nginx', image: newImage },
        { name: 'exporter', image: 'other.example/exporter:1' },
      ],
    });
  });

  it.each([
    ['a selector without app.kubernetes.io/name', { selector: { matchLabels: { app: 'm2-http' } } }],
    [
      'a selector with expressions',
      {
        selector: {
          matchLabels: { [nameLabel]: 'm2-http' },
          matchExpressions: [{ key: 'tier', operator: 'Exists' }],
        },
      },
    ],
  ])('refuses %s, naming the annotation that turns the preview off', (_, spec) => {
    expect(() => previewDeploymentFor(web(spec), 'rel-1', newImage, repository)).toThrow(
      new RegExp(`selector to be matchLabels naming ${nameLabel}.*${previewAnnotation}: "false"`),
    );
  });
});

describe('previewWanted', () => {
  it.each([
    [{}, true],
    [{ [previewAnnotation]: 'true' }, true],
    [{ [previewAnnotation]: 'false' }, false],
  ])('reads %j as %s', (annotations, wanted) => {
    expect(previewWanted('shop-a/deployment/m2-http', annotations)).toBe(wanted);
  });

  it('refuses anything else, naming the Deployment and the annotation', () => {
    expect(() => previewWanted('shop-a/deployment/m2-http', { [previewAnnotation]: 'yes' })).toThrow(
      PreflightError,
    );
    expect(() => previewWanted('shop-a/deployment/m2-http', { [previewAnnotation]: 'yes' })).toThrow(
      /shop-a\/deployment\/m2-http: annotation m2-eks-pipeline.io\/preview must be "true" or "false" \(is "yes"\)/,
    );
  });
});

describe('the preview in a rollout', () => {
  it('catches a release whose pages answer 500 on the preview pod: m2-http is never patched, the preview is deleted', async () => {
    // Prepare
    const shop = newShop();

    // Act
    const result = await invoke(shop, {
      id: 'release-500',
      params: { namespace, image: broken, migrate: 'never' },
    });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual(
      expect.objectContaining({
        kind: 'SmokeCheckFailedError',
        target: `${namespace}/deployment/${preview}`,
        reason: expect.stringMatching(/^smoke check GET \/ answered 500 \(expected 200\)/),
      }),
    );
    expect(result.state?.patched).toEqual([]);
    // No template of the shop was written: only the preview ran the image.
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(allImages(shop)).toEqual({
      web: [oldImage, oldImage],
      consumers: [
        [oldImage, oldImage],
        [oldImage, oldImage],
      ],
      cron: [oldImage],
    });
    expect(shop.cluster.object('deployments', namespace, preview)).toBeUndefined();
    expect(shop.cluster.objects('pods', namespace, `${nameLabel}=${preview}`)).toEqual([]);
    expect(shop.cluster.service(namespace, smokeService.name)).toBeUndefined();
    expect(failureOf(shop, 'release-500')).toMatch(
      /deployment\/m2-http-preview: smoke check GET \/ answered 500.*Caught on the preview pod, deleted again: no web, consumer or cron pod ran the new image, nothing was changed\.$/,
    );
  });

  it('passes a good release on the preview first, then on the new ReplicaSet, and leaves no preview behind', async () => {
    // Prepare
    const shop = newShop();

    // Act
    const result = await invoke(shop, { id: 'release-good' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    const writes = shop.cluster.requests.filter(
      (r) =>
        r.resource === 'deployments' && (r.verb === 'create' || r.verb === 'delete' || r.verb === 'patch'),
    );
    // Created, deleted, and only then the first patch of the shop (preflight's record comes before).
    const created = writes.findIndex((r) => r.verb === 'create' && r.name === preview);
    const deleted = writes.findIndex((r) => r.verb === 'delete' && r.name === preview);
    const imagePatch = shop.cluster.templateWrites.findIndex((w) => w.target === 'deployments/m2-http');
    expect(created).toBeGreaterThanOrEqual(0);
    expect(deleted).toBeGreaterThan(created);
    expect(imagePatch).toBe(0);
    // The default checks twice: home, its asset and GraphQL on the preview, then on the new ReplicaSet.
    expect(shop.cluster.proxied).toHaveLength(6);
    expect(shop.cluster.object('deployments', namespace, preview)).toBeUndefined();
    expect(allImages(shop).web).toEqual([newImage, newImage]);
  });

  it('fails fast on a preview pod that cannot pull its image, with nothing patched', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'pull-error' });
    const started = shop.cluster.clock.now();

    // Act
    const result = await invoke(shop, { id: 'release-pull' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual(
      expect.objectContaining({
        kind: 'TargetFailedError',
        target: `${namespace}/deployment/${preview}`,
        reason: expect.stringMatching(/^(ImagePullBackOff|ErrImagePull) /),
      }),
    );
    expect(shop.cluster.clock.now() - started).toBeLessThan(60_000);
    expect(shop.cluster.templateWrites).toEqual([]);
    expect(shop.cluster.object('deployments', namespace, preview)).toBeUndefined();
  });

  it('replaces a preview another release left behind', async () => {
    // Prepare
    const shop = newShop();
    const leftover = previewDeploymentFor(
      shop.cluster.object('deployments', namespace, 'm2-http') ?? {},
      'an-older-release',
      `${repository}:2.4.6`,
      repository,
    );
    await shop.cluster.createDeployment(namespace, leftover);

    // Act
    const result = await invoke(shop, { id: 'release-after-crash' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    const previewWrites = shop.cluster.requests.filter(
      (r) =>
        r.resource === 'deployments' && r.name === preview && (r.verb === 'create' || r.verb === 'delete'),
    );
    // The test's own create, then: refused create, delete of the leftover, create, delete at the end.
    expect(previewWrites.map((r) => r.verb)).toEqual(['create', 'create', 'delete', 'create', 'delete']);
    expect(shop.cluster.object('deployments', namespace, preview)).toBeUndefined();
  });

  it('hands over while the preview cannot be given its checks, and the next invocation adopts the same preview', async () => {
    // Prepare: 100 s of Lambda time, 60 s of it the reply margin — less than the checks' 60 s budget.
    const shop = newShop();

    // Act
    const first = await invoke(shop, { id: 'release-short' }, budget(shop, 100_000));
    const kept = shop.cluster.object('deployments', namespace, preview)?.metadata?.uid;
    const second = await invoke(shop, {
      id: 'continuation-of-short',
      continuationToken: lastToken(shop)?.raw ?? '',
    });

    // Assess
    expect(first.outcome).toBe('continued');
    expect(first.state?.phase).toBe('preview');
    expect(kept).toBeDefined();
    expect(second.outcome).toBe('succeeded');
    const creates = shop.cluster.requests.filter(
      (r) => r.resource === 'deployments' && r.name === preview && r.verb === 'create',
    );
    // The continuation's create is refused (it exists), and that preview is the one checked.
    expect(creates).toHaveLength(2);
    expect(shop.cluster.requests.filter((r) => r.verb === 'delete' && r.name === preview)).toHaveLength(1);
  });

  it('makes no preview when the smoke checks are off', async () => {
    // Prepare
    const shop = newShop({ webAnnotations: { [smokeAnnotations.checks]: '[]' } });

    // Act
    const result = await invoke(shop, { id: 'release-unchecked' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(shop.cluster.requests.filter((r) => r.name === preview)).toEqual([]);
  });

  it('refuses a malformed preview annotation before anything is written', async () => {
    // Prepare
    const shop = newShop({ webAnnotations: { [previewAnnotation]: 'maybe' } });

    // Act
    const result = await invoke(shop, { id: 'release-malformed' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure?.kind).toBe('PreflightError');
    expect(
      shop.cluster.requests.filter(
        (r) => r.verb !== 'get' && r.verb !== 'list' && r.verb !== 'watch' && r.resource !== 'leases',
      ),
    ).toEqual([]);
  });
});
