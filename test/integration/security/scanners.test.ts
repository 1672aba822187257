import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareWithBaseline, describeComparison, loadBaseline } from '../../../scripts/scan/baseline.ts';
import { runCfnLintAhead } from '../../../scripts/scan/cfnLintAhead.ts';
import { runCheckov, type ScanTarget } from '../../../scripts/scan/checkov.ts';
import { runKubeScore } from '../../../scripts/scan/kubeScore.ts';
import { renderManifests } from '../../../scripts/scan/render.ts';
import { baselineFiles, scanKubernetes } from '../../../scripts/scan/scan.ts';

// The CloudFormation half (checkov and cfn-lint six months ahead on both packaged templates) runs in
// the packaging test, which packages them anyway.

const work = mkdtempSync(join(tmpdir(), 'm2-scan-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const repoFile = (file: string): string => join(import.meta.dirname, '..', '..', '..', file);

/** A shop workload written the way the base is not: no security context, no resources, a mutable tag. */
const careless = `apiVersion: apps/v1
kind: Deployment
metadata: { name: careless, namespace: example-shop }
spec:
  replicas: 1
  selector: { matchLabels: { app: careless } }
  template:
    metadata: { labels: { app: careless } }
    spec:
      containers:
        - name: php
          image: magento:latest
`;

describe('security scanners', () => {
  it('find nothing in the rendered overlay and platform that their baselines do not list', async () => {
    const manifests = renderManifests(work);
    expect(manifests.map((m) => m.label)).toEqual([
      'k8s-manifests/overlays/example-shop (rendered)',
      'k8s-manifests/platform (rendered)',
    ]);
    expect(await scanKubernetes(manifests)).toEqual([]);
  }, 300_000);

  it('report a workload the baselines do not list, naming check, resource and file', async () => {
    const file = join(work, 'careless.yaml');
    writeFileSync(file, careless);
    const targets: ScanTarget[] = [{ label: 'careless.yaml', file }];

    const kubeScore = compareWithBaseline(
      await runKubeScore(targets),
      loadBaseline(repoFile(baselineFiles.kubeScore)),
    );
    const checkov = compareWithBaseline(
      await runCheckov('kubernetes', targets),
      loadBaseline(repoFile(baselineFiles.checkovKubernetes)),
    );

    expect(kubeScore.unlisted.map((f) => [f.check, f.resource])).toContainEqual([
      'container-resources',
      'Deployment/example-shop/careless',
    ]);
    expect(checkov.unlisted.map((f) => [f.check, f.resource])).toContainEqual([
      'CKV_K8S_20',
      'Deployment.example-shop.careless',
    ]);
    const lines = describeComparison('checkov', baselineFiles.checkovKubernetes, checkov);
    expect(lines.find((l) => l.includes('CKV_K8S_20'))).toContain('in careless.yaml');
    // Everything the baselines accept for the shop's own workloads is stale against this file alone.
    expect(kubeScore.stale).toContainEqual({
      check: 'cronjob-has-deadline',
      resource: 'CronJob/example-shop/m2-migrate',
    });
  }, 300_000);

  it('run cfn-lint with the clock moved: our runtime is reported once its deprecation is inside the window', async () => {
    const file = join(work, 'runtime.json');
    writeFileSync(
      file,
      JSON.stringify({
        AWSTemplateFormatVersion: '2010-09-09',
        Resources: {
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Runtime: 'nodejs24.x',
              Handler: 'index.handler',
              Role: 'arn:aws:iam::123456789012:role/fn',
              Code: { ZipFile: 'exports.handler = async () => 1;' },
            },
          },
        },
      }),
    );
    const targets = [{ label: 'runtime.json', file }];
    // AWS deprecates nodejs24.x on 2028-04-30 (cfn-lint's LmbdRuntimeLifecycle.json): a day after it,
    // counted from the real today, cfn-lint must warn (W2531); at today's date it must not.
    const dayAfterDeprecation = Math.ceil((Date.UTC(2028, 4, 1, 12) - Date.now()) / 86_400_000);

    const today = await runCfnLintAhead(targets, 0);
    const ahead = await runCfnLintAhead(targets, dayAfterDeprecation);

    expect(today).toEqual([]);
    expect(ahead.map((f) => [f.check, f.resource, f.file])).toEqual([['W2531', 'Fn', 'runtime.json']]);
  }, 120_000);
});
