import { podBridge, podReachableHostPorts } from './nodes.ts';
import { logFile, runningPid, startDaemon, stopDaemon, tsxDaemon, waitFor } from './proc.ts';

/**
 * moto as pods reach it (M2_REAL_NODES=1): the bridge's gateway, moto's own port, through
 * tcp-relay.ts. Pods get it as AWS_ENDPOINT_URL (the local-real overlay's m2-env).
 */
export const podAwsEndpoint = `http://${podBridge.gateway}:${podReachableHostPorts.moto}`;

const name = 'moto-bridge';

/** Starts the relay (idempotent; needs the bridge, so after upNodes) and waits until moto answers through it. */
export async function upMotoBridge(): Promise<Record<string, string>> {
  if (runningPid(name) === undefined) {
    const [command, args] = tsxDaemon('tcp-relay.ts');
    startDaemon(name, command, args, {
      M2_RELAY_LISTEN_HOST: podBridge.gateway,
      M2_RELAY_LISTEN_PORT: String(podReachableHostPorts.moto),
      M2_RELAY_TARGET_PORT: String(podReachableHostPorts.moto),
    });
  }
  try {
    // moto's dashboard page took 5–7 s to answer at load 17 (test runs beside builds): a try must outlast
    // that, or a healthy relay is reported unreachable.
    await waitFor(
      `moto on ${podAwsEndpoint}`,
      async () => (await fetch(`${podAwsEndpoint}/moto-api/`, { signal: AbortSignal.timeout(15_000) })).ok,
      60_000,
    );
  } catch (error) {
    throw new Error(`moto is not reachable on the pod bridge; see ${logFile(name)}`, { cause: error });
  }
  return { M2_POD_AWS_ENDPOINT_URL: podAwsEndpoint };
}

/** Stops the relay by its recorded PID (before the bridge goes). */
export function downMotoBridge(): Promise<boolean> {
  return stopDaemon(name);
}
