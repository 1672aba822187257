import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Root of the embedded environment's state: PIDs, logs, data directories, the env file. */
export const localDir = resolve(process.env.M2_LOCAL_DIR ?? join(import.meta.dirname, '..', '..', '.local'));

const pidFile = (name: string): string => join(localDir, 'pids', `${name}.pid`);
export const logFile = (name: string): string => join(localDir, 'logs', `${name}.log`);

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: no such process. EPERM cannot happen for our own children (same user).
    return false;
  }
}

/** PID of a daemon this environment started and that is still alive, or undefined. */
export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * Starts a long-running server detached from this process, with stdout/stderr in
 * `.local/logs/<name>.log`, and records its PID so `local:down` stops exactly it.
 */
export function startDaemon(
  name: string,
  command: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): number {
  mkdirSync(join(localDir, 'pids'), { recursive: true });
  mkdirSync(join(localDir, 'logs'), { recursive: true });
  const out = openSync(logFile(name), 'a');
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  writeFileSync(pidFile(name), `${child.pid}\n`);
  return child.pid;
}

/** Command and arguments that run one of this directory's TypeScript daemons on this Node, through tsx. */
export const tsxDaemon = (script: string): [string, string[]] => [
  process.execPath,
  [
    '--import',
    pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
    join(import.meta.dirname, script),
  ],
];

/** Stops a daemon by its recorded PID (SIGTERM, then SIGKILL after the grace period). */
export async function stopDaemon(name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(name);
  rmSync(pidFile(name), { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Polls `check` until it resolves true or the deadline passes; the error names what was awaited. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
}
