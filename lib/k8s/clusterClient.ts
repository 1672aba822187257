import {
  AppsV1Api,
  AuthenticationV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { type CallSettings, defaultCallSettings } from './call.ts';

/**
 * One connected cluster: the generated API groups lib/k8s uses, the KubeConfig behind them
 * (for watches), and the call settings (timeout, retries, clock). Build it with
 * `connectCluster`, or with `createClusterClient` from any KubeConfig in tests.
 */
export interface ClusterClient {
  readonly kubeConfig: KubeConfig;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  readonly coordination: CoordinationV1Api;
  readonly authentication: AuthenticationV1Api;
  readonly calls: CallSettings;
}

/** Wraps a KubeConfig; `calls` overrides individual call settings (e.g. a fake clock in tests). */
export function createClusterClient(
  kubeConfig: KubeConfig,
  calls: Partial<CallSettings> = {},
): ClusterClient {
  return Object.freeze({
    kubeConfig,
    apps: kubeConfig.makeApiClient(AppsV1Api),
    core: kubeConfig.makeApiClient(CoreV1Api),
    batch: kubeConfig.makeApiClient(BatchV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    authentication: kubeConfig.makeApiClient(AuthenticationV1Api),
    calls: { ...defaultCallSettings, ...calls },
  });
}
