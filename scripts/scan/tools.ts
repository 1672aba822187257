import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ScannerFailedError, ScannerMissingError } from './errors.ts';

const installScript = join(import.meta.dirname, 'install.sh');
const installHint = 'run `bash scripts/scan/install.sh` (.ci/run does)';

/** Where install.sh puts the pinned scanners (one source of the versions: install.sh itself). */
function installedPaths(): Map<string, string> {
  const out = execFileSync('bash', [installScript, '--print-paths'], { encoding: 'utf8' });
  return new Map(
    out
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

/** The path of a scanner install.sh installs; throws with the install command when it is missing. */
export function installedTool(tool: 'checkov' | 'kube-score'): string {
  const path = installedPaths().get(tool);
  if (path === undefined || !existsSync(path)) throw new ScannerMissingError(tool, installHint);
  return path;
}

/** A command .ci/run installs onto PATH (cfn-lint from PyPI, faketime from Debian); throws naming the install. */
export function pathTool(tool: 'cfn-lint' | 'faketime'): string {
  const found = (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, tool)));
  if (!found) {
    const how = tool === 'faketime' ? 'apt-get install faketime' : 'python3 -m pip install --user cfn-lint';
    throw new ScannerMissingError(tool, `${how} (.ci/run does)`);
  }
  return tool;
}

/** What a scanner printed and how it ended. */
export interface ToolRun {
  readonly stdout: string;
  readonly exitCode: number;
}

/**
 * Runs a scanner and returns its stdout with its exit code. Scanners exit non-zero when they found
 * something, so only the codes in `okCodes` count as a report; any other (or a kill) is a failure
 * carrying stderr.
 */
export function runTool(
  tool: string,
  command: string,
  args: readonly string[],
  options: { okCodes: readonly number[]; env?: NodeJS.ProcessEnv },
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: options.env ?? process.env, maxBuffer: 256 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
        if (exitCode !== undefined && options.okCodes.includes(exitCode)) resolve({ stdout, exitCode });
        else
          reject(
            new ScannerFailedError(tool, stderr.trim().slice(-2000) || String(error), exitCode, {
              cause: error,
            }),
          );
      },
    );
  });
}
