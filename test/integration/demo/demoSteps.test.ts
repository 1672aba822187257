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
import { runRelease } from '../../../scripts/demo/rollouts.ts';
import { adminApps } from '../../../scripts/demo/shop.ts';
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

function host(name: 'imageVariants' | 'rollout', tally: MetricTally): LambdaHost {
  const settings = functionSettings(name);
  const h = new LambdaHost(name, {
    env: settings.env,
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
      // 7 Luma sizes × 3 formats per original, from the manifests and from the EMF metrics alike.
      expect(result.variants).toHaveLength(42);
      expect(result.metrics.generated).toBe(42);
      expect(result.metrics.variantBytes).toBe(result.variants.reduce((s, v) => s + v.bytes, 0));
      expect(result.metrics.originalBytes).toBe(result.originals.reduce((s, o) => s + o.bytes, 0));
      const totals = formatTotals(result.variants);
      expect(totals.map((t) => t.format)).toEqual(['jpeg', 'webp', 'avif']);
      expect(totals.slice(1).every((t) => (t.vsJpeg ?? 0) < 0)).toBe(true);
      expect(lines).toHaveLength(2);
    },
  );

  it('rolls a new image out without losing web capacity, then rolls a broken one back and reports it', async () => {
    // Prepare
    const tally = new MetricTally();
    const options = {
      host: host('rollout', tally),
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
