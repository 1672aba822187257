import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..', '..');

let dir: string | undefined;

/**
 * The kubectl build-k8s.sh builds with the control plane's version (what the tests put on PATH),
 * not whatever the machine has: `npm run bench:traffic` runs without the tests' PATH.
 */
function kubectlBinary(): string {
  dir ??= execFileSync('bash', [join(root, 'scripts', 'local', 'build-k8s.sh'), '--print-bin-dir'], {
    encoding: 'utf8',
  }).trim();
  return join(dir, 'kubectl');
}

/** Runs kubectl with the environment's KUBECONFIG; returns its stdout, throws (with stderr) when it fails. */
export function kubectl(args: readonly string[]): string {
  try {
    return execFileSync(kubectlBinary(), [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`kubectl ${args.join(' ')} failed`, { cause: error });
  }
}

const execFileAsync = promisify(execFile);

/** kubectl without blocking the event loop (the load generator runs on it meanwhile). */
export async function kubectlAsync(args: readonly string[]): Promise<string> {
  try {
    return (await execFileAsync(kubectlBinary(), [...args], { encoding: 'utf8' })).stdout;
  } catch (error) {
    throw new Error(`kubectl ${args.join(' ')} failed`, { cause: error });
  }
}

/**
 * A long-running kubectl (`logs -f`) whose stdout lines go to `onLine`; stderr is dropped (a follower
 * of a pod that is going away says so there). The caller ends it with `.kill()` on the handle.
 */
export function kubectlFollow(args: readonly string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn(kubectlBinary(), [...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  createInterface({ input: child.stdout }).on('line', onLine);
  return child;
}

/** The repository's k8s-manifests/ directory. */
export const manifestsDir = join(root, 'k8s-manifests');
