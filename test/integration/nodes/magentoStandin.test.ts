import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReleaseTag, releaseImage } from '../../../scripts/local/images/releases.ts';
import { ensureShopSchema, type ShopDatabase } from '../../../scripts/local/mariadb.ts';
import { realNodeTaint } from '../../../scripts/local/nodes.ts';
import {
  adminCluster,
  deleteNamespace,
  eventually,
  type TestCluster,
  testNamespace,
} from '../../helpers/cluster.ts';

const configDir = join(import.meta.dirname, '..', '..', '..', 'k8s-manifests', 'base', 'config');

/**
 * The shop's own configuration files. nginx resolves a relative `include` against the directory of
 * its -c file (/etc/m2/nginx, the ConfigMap), where base/config/nginx.conf's `include fastcgi_params`
 * finds nothing ("open() /etc/m2/nginx/fastcgi_params failed"): until that file names
 * /etc/nginx/fastcgi_params itself, the test does.
 */
const shopConfig = (file: string): string =>
  readFileSync(join(configDir, file), 'utf8').replaceAll(
    'include fastcgi_params;',
    'include /etc/nginx/fastcgi_params;',
  );

/** The release image's environment as m2-env and m2-secrets give it, for this test's schema. */
const magentoEnv = (db: ShopDatabase): V1Container['env'] => [
  { name: 'MAGENTO_DB_HOST', value: `${db.host}:${db.port}` },
  { name: 'MAGENTO_DB_NAME', value: db.name },
  { name: 'MAGENTO_DB_USER', value: db.user },
  { name: 'MAGENTO_DB_PASSWORD', value: db.password },
];

/** What web.yaml gives every container: www-data, read-only root, var/ and /tmp as emptyDirs. */
const restricted: V1Container['securityContext'] = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

function realNodePod(name: string, spec: Pick<V1PodSpec, 'containers' | 'restartPolicy'>): V1Pod {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      ...spec,
      nodeSelector: { type: 'real' },
      tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: realNodeTaint.effect }],
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 33, runAsGroup: 33, fsGroup: 33 },
      volumes: [
        { name: 'nginx-conf', configMap: { name: 'm2-nginx' } },
        { name: 'php-fpm-conf', configMap: { name: 'm2-php-fpm' } },
        { name: 'magento-var', emptyDir: {} },
        { name: 'tmp', emptyDir: {} },
      ],
    },
  };
}

/** web.yaml's two containers (same commands, probes' endpoints and configuration files). */
function webPod(tag: ReleaseTag, db: ShopDatabase): V1Pod {
  const image = releaseImage(tag);
  return realNodePod('web', {
    containers: [
      {
        name: 'nginx',
        image,
        imagePullPolicy: 'Never',
        command: ['nginx', '-c', '/etc/m2/nginx/nginx.conf'],
        ports: [{ containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        securityContext: restricted,
        volumeMounts: [
          { name: 'nginx-conf', mountPath: '/etc/m2/nginx', readOnly: true },
          { name: 'tmp', mountPath: '/tmp', subPath: 'nginx' },
        ],
      },
      {
        name: 'php-fpm',
        image,
        imagePullPolicy: 'Never',
        command: ['php-fpm', '--nodaemonize', '--fpm-config', '/etc/m2/php-fpm/php-fpm.conf'],
        env: magentoEnv(db),
        securityContext: restricted,
        volumeMounts: [
          { name: 'php-fpm-conf', mountPath: '/etc/m2/php-fpm', readOnly: true },
          { name: 'magento-var', mountPath: '/var/www/html/var' },
          { name: 'tmp', mountPath: '/tmp', subPath: 'php' },
        ],
      },
    ],
  });
}

const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('the Magento stand-in on a real node, reading MariaDB (M2_REAL_NODES=1)', () => {
  let admin: TestCluster;
  let namespace: string;
  let db: ShopDatabase;
  let runs = 0;

  /** `php bin/magento <args>` of a release in a pod of its own; resolves to the command's exit code. */
  async function magento(tag: ReleaseTag, args: readonly string[]): Promise<number> {
    runs += 1;
    const name = `magento-${runs}`;
    await admin.core.createNamespacedPod({
      namespace,
      body: realNodePod(name, {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'magento',
            image: releaseImage(tag),
            imagePullPolicy: 'Never',
            command: ['php', 'bin/magento', ...args],
            env: magentoEnv(db),
            securityContext: restricted,
            volumeMounts: [
              { name: 'magento-var', mountPath: '/var/www/html/var' },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          },
        ],
      }),
    });
    return eventually(
      `${name} (${tag} ${args.join(' ')}) to finish`,
      async () => {
        const pod = await admin.core.readNamespacedPod({ namespace, name });
        return pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
      },
      90_000,
    );
  }

  beforeAll(async () => {
    admin = await adminCluster();
    namespace = await testNamespace(admin, 'standin');
    db = ensureShopSchema(`m2_test_${namespace}`, { fresh: true });
    for (const [name, file] of [
      ['m2-nginx', 'nginx.conf'],
      ['m2-php-fpm', 'php-fpm.conf'],
    ] as const) {
      await admin.core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name }, data: { [file]: shopConfig(file) } },
      });
    }
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('serves the storefront and /healthz of 2.4.7-p3 on its pod IP at 8080 from the database', async () => {
    // Prepare
    expect(await magento('2.4.7-p3', ['setup:upgrade', '--keep-generated'])).toBe(0);
    await admin.core.createNamespacedPod({ namespace, body: webPod('2.4.7-p3', db) });
    const pod = await eventually(
      'the web pod Ready',
      async () => {
        const p = await admin.core.readNamespacedPod({ namespace, name: 'web' });
        return isReady(p) ? p : undefined;
      },
      120_000,
    );
    const base = `http://${pod.status?.podIP ?? ''}:8080`;
    const get = (path: string): Promise<Response> =>
      fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });

    // Act
    const [home, healthz, category, product, graphql, css] = await Promise.all([
      get('/'),
      get('/healthz'),
      get('/gear.html'),
      get('/joust-duffle-bag.html'),
      get('/graphql'),
      get('/static/version1717171717/frontend/Magento/luma/en_US/css/styles-m.css'),
    ]);

    // Assess
    expect(base).toMatch(/^http:\/\/10\.89\.[1-9]\.\d+:8080$/);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Joust Duffle Bag');
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe('pong');
    expect(category.status).toBe(200);
    expect(await category.text()).toContain('Strive Shoulder Pack');
    expect(product.status).toBe(200);
    expect(await product.text()).toContain('The sporty Joust Duffle Bag.');
    expect(graphql.status).toBe(200);
    expect(await graphql.json()).toMatchObject({
      data: { products: { items: expect.arrayContaining([expect.objectContaining({ sku: '24-MB01' })]) } },
    });
    expect(css.status).toBe(200);
  });

  it('reports an upgrade for 2.4.8 against the 2.4.7 schema (exit 2), and none after setup:upgrade (exit 0)', async () => {
    // Prepare: the 2.4.7 schema, installed by the previous case (or here when run alone)
    expect(await magento('2.4.7-p3', ['setup:db:status'])).toBe(0);

    // Act
    const before = await magento('2.4.8', ['setup:db:status']);
    const upgrade = await magento('2.4.8', ['setup:upgrade', '--keep-generated']);
    const after = await magento('2.4.8', ['setup:db:status']);

    // Assess
    expect(before).toBe(2);
    expect(upgrade).toBe(0);
    expect(after).toBe(0);
  });
});
