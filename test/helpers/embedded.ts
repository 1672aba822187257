import { inject } from 'vitest';

/** The embedded environment's variables (endpoint, credentials, bucket, kubeconfig), from global setup. */
export function embeddedEnv(): Record<string, string> {
  const vars = inject('embeddedEnv');
  Object.assign(process.env, vars);
  return vars;
}
