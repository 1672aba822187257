import { awsEnv, upAws } from './aws.ts';
import { writeEnvFile } from './env.ts';

/** `npm run local:up`: idempotent; starts only what is not already running. */
export async function up(): Promise<Record<string, string>> {
  await upAws();
  const vars: Record<string, string> = { ...awsEnv };
  writeEnvFile(vars);
  return vars;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  up().then(
    () =>
      console.log(
        `embedded environment up in ${((Date.now() - t0) / 1000).toFixed(1)} s; run: source .local/env`,
      ),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
