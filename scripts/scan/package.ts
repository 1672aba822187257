import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ScanTarget } from './checkov.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

/**
 * The stage parameters of the all-options template: every optional resource on (the CloudFront
 * distribution, the alert e-mail subscription, URL signing with its secret and customer-managed key,
 * Magento's hmac-md5 crypt-key read), so a scan sees every resource serverless.yml can create. The
 * packaging test packages the same set (its CDN test and the scanners share one packaging).
 */
export const allOptionsParams = [
  '--param=imageCdn=true',
  '--param=alertEmail=ops@example.com',
  '--param=mediaNoncurrentVersionDays=7',
  '--param=imageSigningSecret=arn:aws:secretsmanager:us-east-1:123456789012:secret:m2/citest/image-signing-AbCdEf',
  '--param=imageSigningSecretKmsKey=arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  '--param=magentoHashAlgorithm=hmac-md5,md5',
  '--param=magentoCryptKeyParameter=/m2/citest/crypt-key',
] as const;

/** `sls package` offline into a new directory under `outDir`; returns the update-stack template it wrote. */
async function packageTemplate(outDir: string, params: readonly string[]): Promise<string> {
  const out = mkdtempSync(join(outDir, 'package-'));
  // Offline as on a fresh clone: no endpoint, dummy credentials (sls package makes no AWS call).
  const { AWS_ENDPOINT_URL: _endpoint, MEDIA_BUCKET: _bucket, ...env } = process.env;
  await run('npx', ['sls', 'package', '--stage', 'citest', '--package', out, ...params], {
    cwd: repoRoot,
    env: { ...env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', TMPDIR: outDir },
    timeout: 600_000,
  });
  return join(out, 'cloudformation-template-update-stack.json');
}

/** The two templates we ship, default parameters and all options, packaged one after the other (2 cores). */
export async function packageTemplates(outDir: string): Promise<ScanTarget[]> {
  const defaults = await packageTemplate(outDir, []);
  const allOptions = await packageTemplate(outDir, allOptionsParams);
  return [
    { label: 'packaged template (default params)', file: defaults },
    { label: 'packaged template (all options)', file: allOptions },
  ];
}
