import { describe, expect, it } from 'vitest';
import { clusterSettingsFromEnv } from '../../../lib/k8s/clusterSettings.ts';

const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

describe('clusterSettingsFromEnv', () => {
  it('uses a kubeconfig when no EKS cluster is named', () => {
    expect(clusterSettingsFromEnv({ KUBECONFIG: '/tmp/kc', K8S_CONTEXT: 'kind' })).toEqual({
      kind: 'kubeconfig',
      path: '/tmp/kc',
      context: 'kind',
    });
  });

  it('uses EKS with the regional STS endpoint in AWS', () => {
    expect(clusterSettingsFromEnv({ EKS_CLUSTER_NAME: 'shop', AWS_REGION: 'eu-west-1' })).toEqual({
      kind: 'eks',
      clusterName: 'shop',
      region: 'eu-west-1',
      stsEndpoint: 'https://sts.eu-west-1.amazonaws.com',
    });
  });

  it('reads the embedded environment: endpoint URL for STS, endpoint and CA overrides', () => {
    expect(
      clusterSettingsFromEnv({
        EKS_CLUSTER_NAME: 'm2-local',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
        EKS_ENDPOINT_OVERRIDE: 'https://127.0.0.1:6443',
        EKS_CA_DATA_OVERRIDE: ca,
        EKS_ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/m2-rollout',
        KUBECONFIG: '/ignored/in/eks/mode',
      }),
    ).toEqual({
      kind: 'eks',
      clusterName: 'm2-local',
      region: 'us-east-1',
      stsEndpoint: 'http://127.0.0.1:4566',
      endpointOverride: 'https://127.0.0.1:6443',
      caDataOverride: ca,
      assumeRoleArn: 'arn:aws:iam::123456789012:role/m2-rollout',
    });
  });

  it('prefers AWS_ENDPOINT_URL_STS over AWS_ENDPOINT_URL', () => {
    const settings = clusterSettingsFromEnv({
      EKS_CLUSTER_NAME: 'c',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://a:1',
      AWS_ENDPOINT_URL_STS: 'http://b:2',
    });
    expect(settings.kind === 'eks' && settings.stsEndpoint).toBe('http://b:2');
  });

  it('lets K8S_CONNECTION force kubeconfig mode although EKS_CLUSTER_NAME is set', () => {
    expect(clusterSettingsFromEnv({ K8S_CONNECTION: 'kubeconfig', EKS_CLUSTER_NAME: 'm2-local' }).kind).toBe(
      'kubeconfig',
    );
  });

  it.each([
    [{ K8S_CONNECTION: 'eks', AWS_REGION: 'us-east-1' }, /EKS_CLUSTER_NAME/],
    [{ EKS_CLUSTER_NAME: 'c' }, /AWS_REGION/],
    [{ EKS_CLUSTER_NAME: 'c', AWS_REGION: 'r', EKS_ENDPOINT_OVERRIDE: 'not a url' }, /EKS_ENDPOINT_OVERRIDE/],
    [
      { EKS_CLUSTER_NAME: 'c', AWS_REGION: 'r', EKS_CA_DATA_OVERRIDE: 'bm90IGEgY2VydA==' },
      /EKS_CA_DATA_OVERRIDE/,
    ],
    [{ K8S_CONNECTION: 'ssh' }, /K8S_CONNECTION/],
  ])('fails naming the variable for %o', (env, message) => {
    expect(() => clusterSettingsFromEnv(env)).toThrow(message);
  });
});
