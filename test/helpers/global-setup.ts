import type { TestProject } from 'vitest/node';
import { down } from '../../scripts/local/down.ts';
import { k8sRunning } from '../../scripts/local/k8s.ts';
import { runningPid } from '../../scripts/local/proc.ts';
import { up } from '../../scripts/local/up.ts';

/**
 * Brings up the embedded environment for the integration project. When the developer
 * already runs it (`npm run local:up`), it is reused and left running afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Either half already running means a developer's `local:up`: reuse it and leave it running.
  const alreadyRunning = runningPid('moto') !== undefined || k8sRunning();
  const vars = await up();
  Object.assign(process.env, vars);
  project.provide('embeddedEnv', vars);
  return async () => {
    if (!alreadyRunning && process.env.M2_KEEP_LOCAL !== '1') await down();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedEnv: Record<string, string>;
  }
}
