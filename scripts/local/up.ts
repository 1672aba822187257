import { awsEnv, upAws } from './aws.ts';
import { codePipelineEnv, upCodePipeline } from './codepipeline.ts';
import { writeEnvFile } from './env.ts';
import { upK8s } from './k8s.ts';
import { kedaEnabled, kedaRunning, upKeda } from './keda.ts';
import { upMariadb } from './mariadb.ts';
import { upMotoBridge } from './moto-bridge.ts';
import { realNodesEnabled, realNodesRunning, upNodes } from './nodes.ts';

/** `npm run local:up`: idempotent; starts only what is not already running. */
export async function up(): Promise<Record<string, string>> {
  await upAws();
  await upCodePipeline();
  // M2_SKIP_K8S=1 brings up AWS only (e.g. before the Kubernetes binaries are built).
  const k8sVars = process.env.M2_SKIP_K8S === '1' ? {} : await upK8s();
  // M2_REAL_NODES=1 adds real nodes (containerd + kubelet) next to the KWOK ones; off by default.
  // Once running they stay on: a later local:up without the switch (a test run's global setup)
  // must not write an env file that hides them. MariaDB and moto's relay listen on the pod bridge,
  // so they start after the nodes made it.
  const nodeVars =
    (realNodesEnabled() || realNodesRunning()) && process.env.M2_SKIP_K8S !== '1'
      ? { ...(await upNodes()), ...(await upMotoBridge()), ...(await upMariadb()) }
      : {};
  // M2_KEDA=1 adds real KEDA (issue 16); it needs the pod bridge, so after the nodes. Kept on like them.
  const kedaVars = (kedaEnabled() || kedaRunning()) && process.env.M2_SKIP_K8S !== '1' ? await upKeda() : {};
  const vars: Record<string, string> = {
    ...awsEnv,
    ...codePipelineEnv,
    ...k8sVars,
    ...nodeVars,
    ...kedaVars,
  };
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
