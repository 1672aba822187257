import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { KubeConfig, type User } from '@kubernetes/client-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { traced } from '../observability/tracer.ts';
import type { CallSettings } from './call.ts';
import { createClusterClient } from './clientNodeCluster.ts';
import type { ClusterClient } from './clusterClient.ts';
import { type ClusterSettings, clusterSettingsFromEnv, type EksClusterSettings } from './clusterSettings.ts';
import { EksTokenProvider } from './eksTokenProvider.ts';
import { ClusterLookupError } from './errors.ts';

/** Name of the kubeconfig auth provider that stands for "an EKS token from EksTokenProvider". */
const eksAuthProviderName = 'm2-eks-token';

/** client-node's Authenticator interface (not exported by the package's index). */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/** Puts a fresh (cached) EKS token on every request, including watches. */
class EksTokenAuthenticator implements Authenticator {
  readonly #tokens: EksTokenProvider;

  constructor(tokens: EksTokenProvider) {
    this.#tokens = tokens;
  }

  isAuthProvider(user: User): boolean {
    const provider: unknown = user.authProvider;
    return (
      typeof provider === 'object' &&
      provider !== null &&
      (provider as { name?: unknown }).name === eksAuthProviderName
    );
  }

  async applyAuthentication(_user: User, opts: { headers?: Record<string, unknown> }): Promise<void> {
    opts.headers = { ...opts.headers, Authorization: `Bearer ${await this.#tokens.getToken()}` };
  }
}

/** What connecting may take from outside; everything defaults to the real AWS SDK clients. */
export interface ConnectionDeps {
  readonly eks?: EKSClient;
  readonly credentials?: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  readonly now?: () => Date;
  readonly calls?: Partial<CallSettings>;
}

/** Where an EKS cluster is and whom to trust for it. */
interface EksEndpoint {
  readonly server: string;
  readonly caData: string;
}

/**
 * Looks the cluster up with DescribeCluster, then applies the overrides (the embedded
 * environment's moto returns invented endpoint/CA values; the real ones come from the overrides).
 */
async function resolveEksEndpoint(settings: EksClusterSettings, eks: EKSClient): Promise<EksEndpoint> {
  const { cluster } = await eks.send(new DescribeClusterCommand({ name: settings.clusterName }));
  if (cluster?.status !== undefined && cluster.status !== 'ACTIVE' && cluster.status !== 'UPDATING') {
    throw new ClusterLookupError(
      settings.clusterName,
      `EKS cluster ${settings.clusterName} is ${cluster.status}`,
    );
  }
  const server = settings.endpointOverride ?? cluster?.endpoint;
  const caData = settings.caDataOverride ?? cluster?.certificateAuthority?.data;
  if (server === undefined || caData === undefined) {
    throw new ClusterLookupError(
      settings.clusterName,
      `DescribeCluster ${settings.clusterName} returned no endpoint or CA`,
    );
  }
  return { server, caData };
}

/** A KubeConfig for EKS and the token provider behind it. */
interface EksConnection {
  readonly kubeConfig: KubeConfig;
  readonly tokens: EksTokenProvider;
}

/** Builds a KubeConfig that authenticates with EKS tokens minted from the caller's IAM identity. */
async function eksKubeConfig(
  settings: EksClusterSettings,
  deps: ConnectionDeps = {},
): Promise<EksConnection> {
  // Traced like the functions' other SDK clients: DescribeCluster is the first call of a cold start.
  const eks = deps.eks ?? traced(new EKSClient({ region: settings.region }));
  const endpoint = await resolveEksEndpoint(settings, eks);
  const baseCredentials = deps.credentials ?? fromNodeProviderChain();
  const credentials =
    settings.assumeRoleArn === undefined
      ? baseCredentials
      : fromTemporaryCredentials({
          params: {
            RoleArn: settings.assumeRoleArn,
            RoleSessionName: 'm2-eks-pipeline',
            DurationSeconds: 3600,
          },
          masterCredentials: baseCredentials,
          clientConfig: { region: settings.region },
        });
  const tokens = new EksTokenProvider({
    clusterName: settings.clusterName,
    region: settings.region,
    stsEndpoint: settings.stsEndpoint,
    credentials,
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      { name: settings.clusterName, server: endpoint.server, caData: endpoint.caData, skipTLSVerify: false },
    ],
    users: [{ name: 'eks', authProvider: { name: eksAuthProviderName, config: {} } }],
    contexts: [{ name: settings.clusterName, cluster: settings.clusterName, user: 'eks' }],
    currentContext: settings.clusterName,
  });
  kubeConfig.addAuthenticator(new EksTokenAuthenticator(tokens));
  return { kubeConfig, tokens };
}

/** Loads a kubeconfig file ($KUBECONFIG or ~/.kube/config unless a path is given). */
function fileKubeConfig(path?: string, context?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path === undefined) kubeConfig.loadFromDefault();
  else kubeConfig.loadFromFile(path);
  if (context !== undefined) kubeConfig.setCurrentContext(context);
  return kubeConfig;
}

/** A KubeConfig to reach a cluster with, and the call settings that go with it. */
export interface ClusterConnection {
  readonly kubeConfig: KubeConfig;
  readonly calls: Partial<CallSettings>;
}

/**
 * The KubeConfig the settings describe; in EKS mode with a token provider behind it, whose cached
 * token a 401 invalidates (`calls.refreshCredentials`).
 */
export async function connectKubeConfig(
  settings: ClusterSettings,
  deps: ConnectionDeps = {},
): Promise<ClusterConnection> {
  if (settings.kind === 'kubeconfig') {
    return { kubeConfig: fileKubeConfig(settings.path, settings.context), calls: deps.calls ?? {} };
  }
  const { kubeConfig, tokens } = await eksKubeConfig(settings, deps);
  return { kubeConfig, calls: { refreshCredentials: () => tokens.invalidate(), ...deps.calls } };
}

/**
 * Connects to a cluster as the settings say.
 *
 * @example
 * const cluster = await connectCluster({ kind: 'kubeconfig', path: process.env.KUBECONFIG });
 */
export async function connectCluster(
  settings: ClusterSettings,
  deps: ConnectionDeps = {},
): Promise<ClusterClient> {
  const { kubeConfig, calls } = await connectKubeConfig(settings, deps);
  return createClusterClient(kubeConfig, calls);
}

let shared: { readonly key: string; readonly client: Promise<ClusterClient> } | undefined;

/**
 * The cluster client for this Lambda container: created on first use from the environment
 * (see `clusterSettingsFromEnv`) and reused by warm invocations, token cache included.
 */
export function sharedClusterClient(
  settings: ClusterSettings = clusterSettingsFromEnv(),
): Promise<ClusterClient> {
  const key = JSON.stringify(settings);
  if (shared?.key !== key) {
    const client = connectCluster(settings);
    // A failed connect (e.g. DescribeCluster throttled) must not poison later invocations.
    client.catch(() => {
      if (shared?.client === client) shared = undefined;
    });
    shared = { key, client };
  }
  return shared.client;
}
