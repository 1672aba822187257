import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanTarget } from './checkov.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

/** What we ship to a cluster: the example shop's overlay (base included) and the cluster-wide platform. */
const shippedKustomizations = ['overlays/example-shop', 'platform'] as const;

/** kubectl of the control plane's version (its embedded kustomize renders), else the one on PATH. */
function kubectl(): string {
  const dir = execFileSync('bash', [join(repoRoot, 'scripts/local/build-k8s.sh'), '--print-bin-dir'], {
    encoding: 'utf8',
  }).trim();
  return existsSync(join(dir, 'kubectl')) ? join(dir, 'kubectl') : 'kubectl';
}

/** Renders each shipped kustomization with `kubectl kustomize` into `outDir`, one file each, as scan targets. */
export function renderManifests(outDir: string): ScanTarget[] {
  const command = kubectl();
  return shippedKustomizations.map((k) => {
    const yaml = execFileSync(command, ['kustomize', join(repoRoot, 'k8s-manifests', k)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const file = join(outDir, `${k.replaceAll('/', '-')}.yaml`);
    writeFileSync(file, yaml);
    return { label: `k8s-manifests/${k} (rendered)`, file };
  });
}
