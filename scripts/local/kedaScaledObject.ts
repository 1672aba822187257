import { awsEnv } from './aws.ts';

/** The HPA `behavior` KEDA passes through (`advanced.horizontalPodAutoscalerConfig.behavior`). */
export interface HpaBehavior {
  readonly scaleUp?: HpaRules;
  readonly scaleDown?: HpaRules;
}

interface HpaRules {
  readonly stabilizationWindowSeconds?: number;
  readonly selectPolicy?: 'Max' | 'Min' | 'Disabled';
  readonly policies?: readonly { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }[];
}

/** The ScaledObject settings an operator chooses; absent fields keep KEDA's defaults. */
export interface KedaTuning {
  /** KEDA's default 30. */
  readonly pollingIntervalSeconds?: number;
  /** KEDA's default 300: inactive this long before KEDA scales to zero. */
  readonly cooldownPeriodSeconds?: number;
  readonly behavior?: HpaBehavior;
}

export interface SqsScaledObjectSpec {
  readonly name: string;
  readonly namespace: string;
  /** The Deployment it scales. */
  readonly deployment: string;
  /** In the sqs.<region>.amazonaws.com form the manifests use; KEDA takes the queue name from its path. */
  readonly queueUrl: string;
  /** KEDA's queueLength: messages per replica (visible + in flight). */
  readonly queueLength: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly tuning?: KedaTuning;
}

const credentialsSecret = (name: string): string => `${name}-aws`;

/**
 * A Secret with moto's static credentials, a TriggerAuthentication reading it, and a ScaledObject
 * whose aws-sqs-queue trigger asks moto (`awsEndpoint`: KEDA's operator runs on this machine and
 * reaches moto on 127.0.0.1) — the objects an operator applies to let KEDA scale one consumer.
 */
export function sqsScaledObject(spec: SqsScaledObjectSpec): readonly object[] {
  const metadata = { name: spec.name, namespace: spec.namespace };
  const tuning = spec.tuning ?? {};
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { ...metadata, name: credentialsSecret(spec.name) },
      type: 'Opaque',
      stringData: {
        AWS_ACCESS_KEY_ID: awsEnv.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: awsEnv.AWS_SECRET_ACCESS_KEY,
      },
    },
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata,
      spec: {
        secretTargetRef: [
          { parameter: 'awsAccessKeyID', name: credentialsSecret(spec.name), key: 'AWS_ACCESS_KEY_ID' },
          {
            parameter: 'awsSecretAccessKey',
            name: credentialsSecret(spec.name),
            key: 'AWS_SECRET_ACCESS_KEY',
          },
        ],
      },
    },
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata,
      spec: {
        scaleTargetRef: { name: spec.deployment },
        minReplicaCount: spec.minReplicas,
        maxReplicaCount: spec.maxReplicas,
        ...(tuning.pollingIntervalSeconds === undefined
          ? {}
          : { pollingInterval: tuning.pollingIntervalSeconds }),
        ...(tuning.cooldownPeriodSeconds === undefined
          ? {}
          : { cooldownPeriod: tuning.cooldownPeriodSeconds }),
        ...(tuning.behavior === undefined
          ? {}
          : { advanced: { horizontalPodAutoscalerConfig: { behavior: tuning.behavior } } }),
        triggers: [
          {
            type: 'aws-sqs-queue',
            authenticationRef: { name: spec.name },
            metadata: {
              queueURL: spec.queueUrl,
              queueLength: String(spec.queueLength),
              awsRegion: awsEnv.AWS_REGION,
              awsEndpoint: awsEnv.AWS_ENDPOINT_URL,
            },
          },
        ],
      },
    },
  ];
}
