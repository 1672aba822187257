import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMagentoTheme } from '../../../lib/config/magentoTheme.ts';
import { magentoCacheHash } from '../../../lib/images/magento/imageHash.ts';
import { magentoImageOf } from '../../../lib/images/magento/viewXml.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';
import { embeddedS3, emptyAndDeleteBucket, freshBucket } from '../../helpers/s3.ts';

const run = promisify(execFile);

// `sls invoke local` is how the README's quick start runs every function. With a shop theme
// (magentoViewXml) it runs the bundle from .esbuild/.build, where serverless-esbuild does not put
// function-level package files: the theme must still be read there (serverless.viewXml.js).
const themeFile = 'test/fixtures/images/themes/Acme/child/etc/view.xml';
const theme = loadMagentoTheme([themeFile]);
const wide = theme.images.get('acme_listing_wide');
if (wide === undefined) throw new Error('the fixture theme has no acme_listing_wide');
/** A hash only the child theme defines: Luma alone answers it 404 unknown-magento-hash. */
const wideHash = magentoCacheHash(magentoImageOf(wide, theme, { quality: 80 }), 'md5');

let s3: S3Client;
let bucket: string;
let work: string;

beforeAll(async () => {
  embeddedEnv();
  s3 = embeddedS3();
  bucket = await freshBucket(s3);
  work = mkdtempSync(join(tmpdir(), 'm2-invoke-local-'));
});
afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
  rmSync(work, { recursive: true, force: true });
});

interface UrlResult {
  statusCode: number;
  body: string;
}

/** Runs imageServe with `sls invoke local` on a hash URL of a missing original, as a user would. */
async function invokeImageServe(params: readonly string[]): Promise<UrlResult> {
  const event = join(work, `event-${params.length}.json`);
  writeFileSync(
    event,
    JSON.stringify({
      version: '2.0',
      rawPath: `/media/catalog/product/cache/${wideHash}/n/o/none.jpg`,
      rawQueryString: '',
      headers: { accept: 'image/jpeg,*/*' },
      requestContext: { http: { method: 'GET' } },
    }),
  );
  const { stdout } = await run(
    'npx',
    [
      'sls',
      'invoke',
      'local',
      '-f',
      'imageServe',
      '--path',
      event,
      `--param=mediaBucketName=${bucket}`,
      '--param=magentoHashAlgorithm=md5',
      ...params,
    ],
    { env: process.env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
  );
  // sls prints the handler's result as JSON after its own log lines.
  const start = stdout.indexOf('{\n');
  return JSON.parse(stdout.slice(start)) as UrlResult;
}

describe('sls invoke local with a shop theme (magentoViewXml)', () => {
  it("reads the theme: the child theme's hash is known, the original missing", async () => {
    // serverless-esbuild never empties .esbuild/.build: a copy left by an earlier run would hide a miss.
    rmSync(join('.esbuild', '.build', themeFile), { force: true });
    const withTheme = await invokeImageServe([`--param=magentoViewXml=${themeFile}`]);
    expect(withTheme.statusCode).toBe(404);
    expect(withTheme.body).not.toMatch(/no such image size/);

    // The same URL on Luma alone: the hash names no image (so the assertion above can fail).
    const luma = await invokeImageServe([]);
    expect(luma.statusCode).toBe(404);
    expect(luma.body).toMatch(/no such image size/);
  }, 600_000);
});
