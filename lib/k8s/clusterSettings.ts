import { regionalStsEndpoint } from './eksToken.ts';
import { ClusterSettingsError } from './errors.ts';

/** How to reach a cluster: through EKS (IAM identity → token) or through a kubeconfig file. */
export type ClusterSettings = EksClusterSettings | KubeconfigClusterSettings;

export interface EksClusterSettings {
  readonly kind: 'eks';
  readonly clusterName: string;
  readonly region: string;
  /** Where tokens are presigned for; moto's endpoint in the embedded environment. */
  readonly stsEndpoint: string;
  /** Replace DescribeCluster's endpoint (moto invents one); `EKS_ENDPOINT_OVERRIDE`. */
  readonly endpointOverride?: string;
  /** Replace DescribeCluster's CA (base64 PEM, as EKS returns it); `EKS_CA_DATA_OVERRIDE`. */
  readonly caDataOverride?: string;
  /** Assume this role before signing tokens; `EKS_ASSUME_ROLE_ARN` (local runs of one function's identity). */
  readonly assumeRoleArn?: string;
}

interface KubeconfigClusterSettings {
  readonly kind: 'kubeconfig';
  /** Defaults to $KUBECONFIG, then ~/.kube/config. */
  readonly path?: string;
  readonly context?: string;
}

const present = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

/**
 * Reads the connection settings from the environment:
 * `K8S_CONNECTION=eks|kubeconfig` decides explicitly; otherwise EKS mode when `EKS_CLUSTER_NAME`
 * is set, kubeconfig mode when not. EKS mode uses `AWS_REGION`, `AWS_ENDPOINT_URL_STS` /
 * `AWS_ENDPOINT_URL` (else the regional STS endpoint), `EKS_ENDPOINT_OVERRIDE`, `EKS_CA_DATA_OVERRIDE`
 * and `EKS_ASSUME_ROLE_ARN`; kubeconfig mode uses `KUBECONFIG` and `K8S_CONTEXT`.
 * Throws naming the variable that is missing or malformed.
 */
export function clusterSettingsFromEnv(
  env: Record<string, string | undefined> = process.env,
): ClusterSettings {
  const mode =
    present(env.K8S_CONNECTION) ?? (present(env.EKS_CLUSTER_NAME) === undefined ? 'kubeconfig' : 'eks');
  if (mode === 'kubeconfig') return kubeconfigSettings(env);
  if (mode !== 'eks') {
    throw new ClusterSettingsError('K8S_CONNECTION', `must be "eks" or "kubeconfig", not "${mode}"`);
  }
  return eksSettings(env);
}

type Env = Record<string, string | undefined>;

function kubeconfigSettings(env: Env): KubeconfigClusterSettings {
  const path = present(env.KUBECONFIG);
  const context = present(env.K8S_CONTEXT);
  return Object.freeze({
    kind: 'kubeconfig',
    ...(path === undefined ? {} : { path }),
    ...(context === undefined ? {} : { context }),
  });
}

/** The variable's value when set, or undefined; `valid` decides whether a set value is acceptable. */
function optional(
  env: Env,
  variable: string,
  valid: (value: string) => boolean,
  rule: string,
): string | undefined {
  const value = present(env[variable]);
  if (value !== undefined && !valid(value)) throw new ClusterSettingsError(variable, rule);
  return value;
}

const isPemBase64 = (value: string): boolean =>
  Buffer.from(value, 'base64').toString('utf8').includes('BEGIN CERTIFICATE');

function eksSettings(env: Env): EksClusterSettings {
  const clusterName = present(env.EKS_CLUSTER_NAME);
  if (clusterName === undefined)
    throw new ClusterSettingsError('EKS_CLUSTER_NAME', 'is required in EKS mode');
  const region = present(env.AWS_REGION) ?? present(env.AWS_DEFAULT_REGION);
  if (region === undefined) throw new ClusterSettingsError('AWS_REGION', 'is required in EKS mode');
  const endpointOverride = optional(env, 'EKS_ENDPOINT_OVERRIDE', URL.canParse, 'must be a URL');
  const caDataOverride = optional(
    env,
    'EKS_CA_DATA_OVERRIDE',
    isPemBase64,
    'must be a base64-encoded PEM certificate',
  );
  const assumeRoleArn = present(env.EKS_ASSUME_ROLE_ARN);
  return Object.freeze({
    kind: 'eks',
    clusterName,
    region,
    stsEndpoint:
      present(env.AWS_ENDPOINT_URL_STS) ?? present(env.AWS_ENDPOINT_URL) ?? regionalStsEndpoint(region),
    ...(endpointOverride === undefined ? {} : { endpointOverride }),
    ...(caDataOverride === undefined ? {} : { caDataOverride }),
    ...(assumeRoleArn === undefined ? {} : { assumeRoleArn }),
  });
}
