import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseImage } from '../../../scripts/local/images/releases.ts';
import { podAwsEndpoint } from '../../../scripts/local/moto-bridge.ts';
import { podBridge, podReachableHostPorts, realNodeTaint } from '../../../scripts/local/nodes.ts';
import {
  adminCluster,
  deleteNamespace,
  eventually,
  type TestCluster,
  testNamespace,
} from '../../helpers/cluster.ts';

/**
 * What a pod reaches on the host, probed from inside a pod with the release image's php-cli: one
 * line `<host:port> <open|errno>` per TCP target, then moto's answer through AWS_ENDPOINT_URL.
 */
const probeScript = `
foreach (array_slice($argv, 1) as $target) {
  [$host, $port] = explode(':', $target);
  $s = @fsockopen($host, (int) $port, $errno, $errstr, 3);
  echo $target, ' ', $s === false ? "errno=$errno" : 'open', "\\n";
}
$ctx = stream_context_create(['http' => ['timeout' => 5, 'ignore_errors' => true]]);
$body = @file_get_contents(getenv('AWS_ENDPOINT_URL') . '/moto-api/', false, $ctx);
echo 'moto ', $body === false ? 'unreachable' : explode(' ', $http_response_header[0])[1], "\\n";
`;

const kubelet = '10.89.1.1:10250';
const kubeProxyHealthz = '10.89.1.1:10256';
const moto = `${podBridge.gateway}:${podReachableHostPorts.moto}`;
const mariadb = `${podBridge.gateway}:${podReachableHostPorts.mariadb}`;

function probePod(): V1Pod {
  return {
    metadata: { name: 'probe' },
    spec: {
      restartPolicy: 'Never',
      nodeSelector: { type: 'real' },
      tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: realNodeTaint.effect }],
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 33, runAsGroup: 33 },
      containers: [
        {
          name: 'probe',
          image: releaseImage('2.4.7-p3'),
          imagePullPolicy: 'Never',
          command: ['php', '-r', probeScript, '--', moto, mariadb, kubelet, kubeProxyHealthz],
          env: [{ name: 'AWS_ENDPOINT_URL', value: podAwsEndpoint }],
        },
      ],
    },
  };
}

describe('what a pod on a real node reaches on the host (M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let namespace: string;

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'pod-network');
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('reaches moto and MariaDB on the gateway and is refused by the kubelet and kube-proxy it could route to', async () => {
    // Prepare
    await admin.core.createNamespacedPod({ namespace, body: probePod() });

    // Act
    await eventually(
      'the probe pod to finish',
      async () => {
        const pod = await admin.core.readNamespacedPod({ namespace, name: 'probe' });
        return pod.status?.containerStatuses?.[0]?.state?.terminated;
      },
      90_000,
    );
    const log = await admin.core.readNamespacedPodLog({ namespace, name: 'probe' });
    const results = Object.fromEntries(
      log
        .trim()
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );

    // Assess
    expect(podAwsEndpoint).toBe(`http://${moto}`);
    expect(results).toEqual({
      [moto]: 'open',
      [mariadb]: 'open',
      // ECONNREFUSED at once: the guard's reject, not a timeout (both ports listen on that address).
      [kubelet]: 'errno=111',
      [kubeProxyHealthz]: 'errno=111',
      moto: '200',
    });
  });
});
