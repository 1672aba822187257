import { describe, expect, it } from 'vitest';
import { previewAnnotation } from '../../../lib/rollout/preview.ts';
import { smokeAnnotations } from '../../../lib/rollout/smokeChecks.ts';
import { smokeService } from '../../../lib/rollout/smokeTest.ts';
import {
  allImages,
  budget,
  failureOf,
  invoke,
  lastToken,
  namespace,
  newShop as newFakeShop,
  newImage,
  oldImage,
  repository,
  type Shop,
} from './shop.ts';

const broken = `${repository}:2.4.8-storefront-500`;
const through = `${namespace}/${smokeService.name}:${smokeService.port}`;
const graphql = '/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D';
const asset = '/static/version1746464646/frontend/Magento/luma/en_US/css/styles-m.css';

/** The old release's pods answer 500 to everything: a check that reached one would fail. */
function oldPodsBroken(shop: Shop): void {
  shop.cluster.setHttpBehaviour(oldImage, () => ({ status: 500, contentType: 'text/html', body: 'old pod' }));
}

async function annotate(shop: Shop, annotations: Record<string, string>): Promise<void> {
  await shop.cluster.patchDeployment(
    { namespace, name: 'm2-http' },
    { type: 'merge', document: { metadata: { annotations } } },
  );
}

/** The shop with its preview turned off: the checks run on the new ReplicaSet, as the web rollout goes. */
const newShop = (): Shop => newFakeShop({ webAnnotations: { [previewAnnotation]: 'false' } });

describe('smoke checks of the new ReplicaSet (preview off)', () => {
  it('passes a good release after the default checks reached new pods only, and removes its Service', async () => {
    // Prepare
    const shop = newShop();
    oldPodsBroken(shop);

    // Act
    const result = await invoke(shop, { id: 'release-good' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(shop.cluster.proxied).toEqual([`${through} /`, `${through} ${asset}`, `${through} ${graphql}`]);
    expect(shop.cluster.service(namespace, smokeService.name)).toBeUndefined();
    expect(allImages(shop).web).toEqual([newImage, newImage]);
  });

  it('rolls back a release whose pages answer 500 while Ready, naming the request, status and body', async () => {
    // Prepare
    const shop = newShop();

    // Act
    const result = await invoke(shop, {
      id: 'release-500',
      params: { namespace, image: broken, migrate: 'never' },
    });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({
      kind: 'SmokeCheckFailedError',
      target: `${namespace}/deployment/m2-http`,
      reason: expect.stringMatching(
        /^smoke check GET \/ answered 500 \(expected 200\); body starts "<!doctype html><html><head><title>There has been an error processing your request<\/title>.*" \(4 attempts, through service\/m2-http-smoke\)$/,
      ),
    });
    // Judged on the first check's retries; web was the only target patched, and it is restored.
    expect(shop.cluster.proxied).toEqual(Array(4).fill(`${through} /`));
    expect(result.state?.patched).toEqual([{ kind: 'Deployment', name: 'm2-http' }]);
    expect(allImages(shop).web).toEqual([oldImage, oldImage]);
    expect(shop.cluster.service(namespace, smokeService.name)).toBeUndefined();
    const message = failureOf(shop, 'release-500') ?? '';
    expect(message).toMatch(
      /failed: shop-a\/deployment\/m2-http: smoke check GET \/ answered 500 \(expected 200\)/,
    );
    expect(message).toMatch(/Rolled back to the recorded images: shop-a\/deployment\/m2-http\.$/);
  });

  it('runs the checks the Deployment declares, and fails on a text the page lacks', async () => {
    // Prepare
    const shop = newShop();
    await annotate(shop, {
      [smokeAnnotations.checks]: JSON.stringify([
        { path: '/graphql?query=%7Bx%7D', status: 200 },
        { path: '/', contains: 'Joust Duffle Bag' },
      ]),
      [smokeAnnotations.budgetSeconds]: '10',
    });

    // Act
    const result = await invoke(shop, { id: 'release-declared' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure?.reason).toMatch(/^smoke check GET \/ answered 200 without "Joust Duffle Bag"/);
    expect(shop.cluster.proxied).toEqual([
      `${through} /graphql?query=%7Bx%7D`,
      ...Array(4).fill(`${through} /`),
    ]);
  });

  it('sends nothing when the Deployment turns the checks off', async () => {
    // Prepare
    const shop = newShop();
    await annotate(shop, { [smokeAnnotations.checks]: '[]' });

    // Act
    const result = await invoke(shop, {
      id: 'release-off',
      params: { namespace, image: broken, migrate: 'never' },
    });

    // Assess: what "off" costs — the broken release is called a success.
    expect(result.outcome).toBe('succeeded');
    expect(shop.cluster.proxied).toEqual([]);
  });

  it('refuses a malformed annotation before anything is patched', async () => {
    // Prepare
    const shop = newShop();
    await annotate(shop, { [smokeAnnotations.checks]: '[{"path":"men.html"}]' });

    // Act
    const result = await invoke(shop, { id: 'release-malformed' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure?.kind).toBe('SmokePlanError');
    expect(result.message).toMatch(
      /annotation m2-eks-pipeline\.io\/smoke-checks: \[0\.path\] must start with \//,
    );
    expect(shop.cluster.templateWrites).toEqual([]);
  });

  it('fails at once, without retries, when the apiserver refuses the proxy request (RBAC or admission)', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.fail({
      verb: 'get',
      resource: 'services/proxy',
      status: 403,
      message: 'services "m2-http-smoke:http" is forbidden',
    });

    // Act
    const result = await invoke(shop, { id: 'release-forbidden' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.failure?.reason).toMatch(
      /^smoke check GET \/ could not be sent: .*forbidden \(1 attempt, /,
    );
    expect(allImages(shop).web).toEqual([oldImage, oldImage]);
  });

  it('retries while the apiserver reaches no new pod yet, then passes', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.fail({
      verb: 'get',
      resource: 'services/proxy',
      status: 503,
      message: 'no endpoints available for service "m2-http-smoke"',
      times: 2,
    });

    // Act
    const result = await invoke(shop, { id: 'release-endpoints' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    // Two refused by the apiserver, then the home page, its asset and GraphQL.
    expect(shop.cluster.requests.filter((r) => r.resource === 'services/proxy')).toHaveLength(5);
    expect(shop.cluster.proxied).toEqual([`${through} /`, `${through} ${asset}`, `${through} ${graphql}`]);
  });

  it('replaces a Service a crashed verification left behind, with its stale selector', async () => {
    // Prepare
    const shop = newShop();
    oldPodsBroken(shop);
    await shop.cluster.createService(namespace, {
      metadata: { name: smokeService.name },
      spec: { selector: { app: 'm2-http' }, ports: [{ name: 'http', port: 80 }] },
    });

    // Act
    const result = await invoke(shop, { id: 'release-leftover' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(shop.cluster.service(namespace, smokeService.name)).toBeUndefined();
  });
  it('leaves the checks to the next invocation when this one cannot give them their budget, and never succeeds unchecked', async () => {
    // Prepare: 100 s of Lambda time, 60 s of it the reply margin — less than the checks' 60 s budget.
    const shop = newShop();

    // Act
    const first = await invoke(shop, { id: 'release-short' }, budget(shop, 100_000));
    const checkedFirst = [...shop.cluster.proxied];
    const second = await invoke(shop, {
      id: 'continuation-of-short',
      continuationToken: lastToken(shop)?.raw ?? '',
    });

    // Assess
    expect(first.outcome).toBe('continued');
    expect(first.state?.phase).toBe('web');
    expect(checkedFirst).toEqual([]);
    expect(second.outcome).toBe('succeeded');
    expect(shop.cluster.proxied).toEqual([`${through} /`, `${through} ${asset}`, `${through} ${graphql}`]);
  });
});
