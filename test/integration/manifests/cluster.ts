import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { manifestsDir } from '../../helpers/manifests.ts';

/** What one kubectl run printed and returned. */
export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `kubectl` against the embedded cluster with the admin kubeconfig (or the one given), whatever its exit code. */
export function kubectlResult(args: readonly string[], kubeconfig?: string, input?: string): KubectlResult {
  const result = spawnSync('kubectl', args, {
    encoding: 'utf8',
    input,
    env: { ...process.env, ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}) },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `kubectl` against the embedded cluster; returns stdout, throws with stderr on a non-zero exit. */
export function kubectl(
  args: readonly string[],
  options: { input?: string; kubeconfig?: string } = {},
): string {
  const result = kubectlResult(args, options.kubeconfig, options.input);
  if (result.status !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

/** `kubectl ... -o json`, parsed. */
export function kubectlJson<T>(args: readonly string[], kubeconfig?: string): T {
  return JSON.parse(kubectl([...args, '-o', 'json'], kubeconfig ? { kubeconfig } : {})) as T;
}

/**
 * Renders a shop overlay into another namespace (an outer kustomization whose `namespace:` wins),
 * so a test can apply the real overlay without touching a namespace someone else may be using.
 */
export function renderShopInto(overlay: string, namespace: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'm2-shop-'));
  try {
    const base = relative(dir, join(manifestsDir, overlay));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${namespace}\nresources:\n  - ${base}\n`,
    );
    return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The batch node pool the manifests schedule consumers, cron and migrations onto. */
export const workerPool = { label: 'm2-eks-pipeline.io/node-pool', value: 'workers' } as const;

const workerNodes = ['a', 'b', 'c'].map((zone) => ({ name: `m2-worker-${zone}`, zone: `us-east-1${zone}` }));

/**
 * Makes sure the embedded cluster has a tainted batch node pool (three KWOK nodes, one per zone),
 * as a production cluster has a separate node group for it. Returns the nodes it created, so the
 * caller can remove exactly those again.
 */
export function ensureWorkerPool(): string[] {
  const existing = new Set(
    kubectl(['get', 'nodes', '-l', `${workerPool.label}=${workerPool.value}`, '-o', 'name'])
      .split('\n')
      .filter(Boolean)
      .map((n) => n.replace(/^node\//, '')),
  );
  const missing = workerNodes.filter((n) => !existing.has(n.name));
  if (missing.length === 0) return [];
  const nodes = missing.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': n.zone,
        [workerPool.label]: workerPool.value,
      },
    },
    spec: { taints: [{ key: workerPool.label, value: workerPool.value, effect: 'NoSchedule' }] },
    status: {
      allocatable: { cpu: '16', memory: '64Gi', pods: '110' },
      capacity: { cpu: '16', memory: '64Gi', pods: '110' },
    },
  }));
  kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes }) });
  return missing.map((n) => n.name);
}

/** Polls a condition until it holds or the deadline passes (for controller-driven state). */
export async function eventually<T>(
  probe: () => T | undefined,
  what: string,
  timeoutMs = 90_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
