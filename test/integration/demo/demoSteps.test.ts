import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';
import { MetricTally } from '../../../scripts/demo/emf.ts';
import { functionSettings } from '../../../scripts/demo/functionEnv.ts';
import { runImages } from '../../../scripts/demo/images.ts';
import { LambdaHost } from '../../../scripts/demo/lambdaHost.ts';
import { formatTotals } from '../../../scripts/demo/report.ts';
import { rolloutTokenSecret, runRelease } from '../../../scripts/demo/rollouts.ts';
import { adminApps } from '../../../scripts/demo/shop.ts';
import { runStorefront } from '../../../scripts/demo/storefront.ts';
import { localDir } from '../../../scripts/local/proc.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { applyShop, deleteShop, shopNamespace } from '../rollout/rolloutFixture.ts';

/**
 * The demo's images and rollout steps against the embedded environment, with the functions in their
 * own hosts as `npm run demo` runs them (own environment, own role), on a shop namespace of this
 * test's own (m2-http's minReadySeconds shortened to 1 s by the rollout fixture).
 */
const namespace = shopNamespace();
const hosts: LambdaHost[] = [];
let logDir = '';

function host(
  name: 'imageVariants' | 'imageServe' | 'rollout',
  tally: MetricTally,
  env: Record<string, string> = {},
): LambdaHost {
  const settings = functionSettings(name);
  const h = new LambdaHost(name, {
    env: { ...settings.env, ...env },
    timeoutMs: settings.timeoutMs,
    memoryMb: settings.memoryMb,
    logDir,
    onLogLine: tally.onLogLine,
  });
  hosts.push(h);
  return h;
}

beforeAll(async () => {
  embeddedEnv();
  logDir = mkdtempSync(join(tmpdir(), 'm2-demo-logs-'));
  await applyShop(namespace);
});

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  deleteShop(namespace);
  if (logDir !== '') rmSync(logDir, { recursive: true, force: true });
});

describe('the demo steps on the embedded environment', () => {
  it.skipIf(!existsSync('/usr/share/backgrounds/mate/nature/Aqua.jpg'))(
    'makes every variant of two photographs and counts them from the function’s own metrics',
    async () => {
      // Prepare
      const tally = new MetricTally();
      const settings = functionSettings('imageVariants');
      const lines: string[] = [];

      // Act
      const result = await runImages({
        host: host('imageVariants', tally),
        tally,
        bucket: settings.env.MEDIA_BUCKET ?? '',
        layout: loadImageVariantsConfig(settings.env).settings.layout,
        region: process.env.AWS_REGION ?? 'us-east-1',
        photoCacheDir: join(localDir, 'demo', 'photos'),
        count: 2,
        progress: (line) => lines.push(line),
      });

      // Assess
      expect(result.failures).toEqual([]);
      expect(result.originals.map((o) => o.status)).toEqual(['generated', 'generated']);
      // Per original: 7 Luma presets × 3 formats, and Magento's 18 sized cache/<hash>/ images of Luma
      // (md5, the default) × JPEG and WebP; from the manifests and from the EMF metrics alike.
      expect(result.variants).toHaveLength(2 * (7 * 3 + 18 * 2));
      expect(result.metrics.generated).toBe(2 * (7 * 3 + 18 * 2));
      expect(result.metrics.variantBytes).toBe(result.variants.reduce((s, v) => s + v.bytes, 0));
      expect(result.metrics.originalBytes).toBe(result.originals.reduce((s, o) => s + o.bytes, 0));
      const totals = formatTotals(result.variants);
      expect(totals.map((t) => t.format)).toEqual(['jpeg', 'webp', 'avif']);
      expect(totals.slice(1).every((t) => (t.vsJpeg ?? 0) < 0)).toBe(true);
      expect(lines).toHaveLength(2);

      // Act: the storefront's URLs for the first original, through imageServe in its own host
      const first = result.originals[0];
      if (first === undefined) throw new Error('no original');
      const storefront = await runStorefront({
        host: host('imageServe', new MetricTally()),
        mediaPath: first.key.slice(loadImageVariantsConfig(settings.env).settings.layout.mediaPrefix.length),
        originalKey: first.key,
      });

      // Assess: Magento's hash URL is the 240×300 framed image imageVariants made at upload, WebP for
      // Chrome and JPEG for an old browser; the parameters URL fits 240×300 (AVIF made now, within
      // AVIF_MAX_PIXELS); PWA Studio's 640×800 cover tile is rendered now as WebP and covers the box.
      expect(first.key).toMatch(/^media\/catalog\/product\/.\/.\/[^/]+$/);
      const [hashWebp, hashJpeg, params, pwa] = storefront.fetches;
      expect(storefront.fetches.map((f) => [f.status, f.contentType])).toEqual([
        [200, 'image/webp'],
        [200, 'image/jpeg'],
        [200, 'image/avif'],
        [200, 'image/webp'],
      ]);
      expect([hashWebp?.width, hashWebp?.height, hashWebp?.pregenerated]).toEqual([240, 300, true]);
      expect([hashJpeg?.width, hashJpeg?.height, hashJpeg?.pregenerated]).toEqual([240, 300, true]);
      expect(Math.max((params?.width ?? 0) / 240, (params?.height ?? 0) / 300)).toBeCloseTo(1, 2);
      expect(pwa?.url).toMatch(
        /^\/media\/catalog\/product\/.+\?auto=webp&format=pjpg&width=640&height=800&fit=cover$/,
      );
      expect(Math.min((pwa?.width ?? 0) / 640, (pwa?.height ?? 0) / 800)).toBeCloseTo(1, 2);
      expect(pwa?.pregenerated).toBe(false);
    },
  );

  it('rolls a new image out without losing web capacity, then rolls a broken one back and reports it', async () => {
    // Prepare
    const tally = new MetricTally();
    const options = {
      // The continuation-token key, as `npm run demo` gives it (the stage param rolloutTokenSecret in AWS).
      host: host('rollout', tally, { ROLLOUT_TOKEN_SECRET_ARN: await rolloutTokenSecret() }),
      tally,
      apps: adminApps(),
      namespace,
      webDeployment: 'm2-http',
      codePipelineEndpoint: process.env.AWS_ENDPOINT_URL_CODEPIPELINE ?? '',
      progress: () => {},
    };

    // Act
    const good = await runRelease('new image', { namespace, imageTag: '2.4.8', migrate: 'never' }, options);
    const broken = await runRelease(
      'broken image',
      { namespace, imageTag: '2.4.8-crashloop', migrate: 'never', timeoutSeconds: 60 },
      options,
    );

    // Assess
    expect(good).toMatchObject({ outcome: 'succeeded', verdict: 'succeeded', desired: 3 });
    expect(good.report?.operation).toBe('PutJobSuccessResult');
    expect(good.minAvailable).toBeGreaterThanOrEqual(3);
    expect(good.samples.some((s) => s.total > 3)).toBe(true); // a surge pod was seen
    expect(broken).toMatchObject({ outcome: 'failed', verdict: 'rolled-back' });
    expect(broken.report?.body.failureDetails?.type).toBe('JobFailed');
    expect(broken.report?.body.failureDetails?.message).toMatch(/CrashLoopBackOff|restarted/);
    expect(broken.minAvailable).toBeGreaterThanOrEqual(3);
    expect(broken.rolloutMs).toBeGreaterThan(0);
  });
});
