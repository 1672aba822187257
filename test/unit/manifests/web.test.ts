import type {
  V1Container,
  V1Deployment,
  V1Ingress,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  configMapData,
  find,
  ofKind,
  render,
  selects,
  shopOverlays,
  workloads,
} from '../../helpers/manifests.ts';

const overlay = shopOverlays[0];
const objects = () => render(overlay).objects;
const web = () => find<V1Deployment>(objects(), 'Deployment', 'm2-http');
const podSpec = () => {
  const spec = web().spec?.template.spec;
  if (spec === undefined) throw new Error('m2-http has no pod spec');
  return spec;
};
const container = (name: string): V1Container => {
  const found = podSpec().containers.find((c) => c.name === name);
  if (found === undefined) throw new Error(`m2-http has no ${name} container`);
  return found;
};

/** The seconds of the first `sleep N` in a preStop exec command. */
function preStopSleep(c: V1Container): number {
  const command = (c.lifecycle?.preStop?.exec?.command ?? []).join(' ');
  const match = /\bsleep (\d+)/.exec(command);
  if (match?.[1] === undefined) throw new Error(`${c.name} preStop does not sleep: ${command}`);
  return Number(match[1]);
}

/** A duration setting in seconds from php-fpm.conf (`key = 60s`). */
function phpFpmSeconds(key: string): number {
  const conf = configMapData(objects(), 'm2-php-fpm')['php-fpm.conf'] ?? '';
  const match = new RegExp(`^${key.replaceAll('.', '\\.')}\\s*=\\s*(\\d+)s?\\s*$`, 'm').exec(conf);
  if (match?.[1] === undefined) throw new Error(`php-fpm.conf has no ${key}`);
  return Number(match[1]);
}

describe('m2-http rolling update', () => {
  it('never goes below full capacity and surges', () => {
    // Act
    const rolling = web().spec?.strategy?.rollingUpdate;

    // Assess
    expect(web().spec?.strategy?.type).toBe('RollingUpdate');
    expect(rolling?.maxUnavailable).toBe(0);
    expect(rolling?.maxSurge).toBeDefined();
    expect(rolling?.maxSurge).not.toBe(0);
    expect(rolling?.maxSurge).not.toBe('0%');
  });

  it('waits minReadySeconds before counting a new pod available, and has a progress deadline', () => {
    expect(web().spec?.minReadySeconds).toBeGreaterThanOrEqual(5);
    expect(web().spec?.progressDeadlineSeconds).toBeGreaterThan(0);
  });

  it('leaves replicas to the HPA, which keeps at least one pod per zone', () => {
    // Prepare
    const hpa = find<V2HorizontalPodAutoscaler>(objects(), 'HorizontalPodAutoscaler', 'm2-http');

    // Assess
    expect(web().spec?.replicas).toBeUndefined();
    expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec?.maxReplicas).toBeGreaterThan(hpa.spec?.minReplicas ?? 0);
  });
});

describe('m2-http probes', () => {
  it('gates readiness on the DB-free php-fpm ping, the same path the ALB checks', () => {
    // Prepare
    const ingress = find<V1Ingress>(objects(), 'Ingress', 'm2-http');
    const nginxConf = configMapData(objects(), 'm2-nginx')['nginx.conf'] ?? '';

    // Act
    const path = container('nginx').readinessProbe?.httpGet?.path ?? '';
    const block = new RegExp(`location = ${path} \\{([^}]*)\\}`).exec(nginxConf)?.[1] ?? '';

    // Assess
    expect(path).toBe(ingress.metadata?.annotations?.['alb.ingress.kubernetes.io/healthcheck-path']);
    expect(block).toContain('fastcgi_param SCRIPT_NAME /fpm-ping');
    expect(block).not.toMatch(/\.php|health_check/);
    expect(configMapData(objects(), 'm2-php-fpm')['php-fpm.conf']).toMatch(/^ping\.path = \/fpm-ping$/m);
  });

  it.each(['nginx', 'php-fpm'])(
    'gives %s a liveness probe that does not go through PHP or the database',
    (name) => {
      // Act
      const liveness = container(name).livenessProbe;

      // Assess
      expect(liveness).toBeDefined();
      expect(liveness?.httpGet?.path ?? '').not.toMatch(/healthz|\.php|health_check/);
      expect(liveness?.failureThreshold ?? 3).toBeGreaterThanOrEqual(3);
    },
  );

  it('gives php-fpm a startup probe so liveness does not judge a booting pod', () => {
    // Act
    const startup = container('php-fpm').startupProbe;

    // Assess
    expect(startup).toBeDefined();
    expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(60);
  });
});

describe('m2-http shutdown', () => {
  it('keeps serving through the ALB deregistration, then stops php-fpm with SIGQUIT', () => {
    // Act
    const nginxSleep = preStopSleep(container('nginx'));
    const phpSleep = preStopSleep(container('php-fpm'));

    // Assess
    expect(nginxSleep).toBeGreaterThanOrEqual(25);
    expect(phpSleep).toBeGreaterThan(nginxSleep);
    expect(container('php-fpm').lifecycle?.preStop?.exec?.command?.join(' ')).toMatch(/kill -QUIT 1/);
    expect(container('nginx').lifecycle?.preStop?.exec?.command?.join(' ')).toMatch(/-s quit/);
  });

  it('ends every keep-alive connection cleanly before nginx quits', () => {
    // Prepare
    const conf = configMapData(objects(), 'm2-nginx')['nginx.conf'] ?? '';
    const keepaliveTime = /^\s*keepalive_time\s+(\d+)s;/m.exec(conf)?.[1];

    // Act
    const nginxSleep = preStopSleep(container('nginx'));

    // Assess: a connection still open at `nginx -s quit` is closed under its next request.
    expect(keepaliveTime).toBeDefined();
    expect(Number(keepaliveTime)).toBeLessThanOrEqual(nginxSleep / 2);
  });

  it('sizes the grace period for the preStop delay plus the slowest request', () => {
    // Prepare
    const requestTimeout = phpFpmSeconds('request_terminate_timeout');
    const longestPreStop = Math.max(...podSpec().containers.map(preStopSleep));

    // Act
    const grace = podSpec().terminationGracePeriodSeconds ?? 30;

    // Assess
    expect(grace).toBeGreaterThanOrEqual(longestPreStop + requestTimeout);
  });

  it('lets the ALB drain a target for as long as the slowest request may run', () => {
    // Prepare
    const annotations = find<V1Ingress>(objects(), 'Ingress', 'm2-http').metadata?.annotations ?? {};
    const nginxConf = configMapData(objects(), 'm2-nginx')['nginx.conf'] ?? '';

    // Act
    const drain = /deregistration_delay\.timeout_seconds=(\d+)/.exec(
      annotations['alb.ingress.kubernetes.io/target-group-attributes'] ?? '',
    )?.[1];

    // Assess
    expect(Number(drain)).toBeGreaterThanOrEqual(phpFpmSeconds('request_terminate_timeout'));
    expect(nginxConf).toContain(`fastcgi_read_timeout ${phpFpmSeconds('request_terminate_timeout')}s;`);
  });
});

describe('m2-http placement', () => {
  it('spreads hard across zones and softly across hosts, per ReplicaSet so surge pods are never blocked', () => {
    // Prepare
    const constraints = podSpec().topologySpreadConstraints ?? [];
    const byKey = (key: string) => constraints.find((t) => t.topologyKey === key);

    // Assess
    expect(byKey('topology.kubernetes.io/zone')).toMatchObject({
      maxSkew: 1,
      whenUnsatisfiable: 'DoNotSchedule',
    });
    expect(byKey('kubernetes.io/hostname')).toMatchObject({ whenUnsatisfiable: 'ScheduleAnyway' });
    for (const t of constraints) {
      expect(t.matchLabelKeys).toContain('pod-template-hash');
      expect(selects(t.labelSelector ?? {}, web().spec?.template.metadata?.labels)).toBe(true);
    }
  });
});

describe('web-only objects', () => {
  it('has exactly one HPA, on m2-http, scaling on CPU', () => {
    // Act
    const hpas = ofKind<V2HorizontalPodAutoscaler>(objects(), 'HorizontalPodAutoscaler');

    // Assess
    expect(hpas.map((h) => h.spec?.scaleTargetRef)).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'm2-http' },
    ]);
    expect(hpas[0]?.spec?.metrics?.map((m) => m.resource?.name)).toEqual(['cpu']);
  });

  it('has a PDB that selects exactly the web pods and allows one disruption', () => {
    // Prepare
    const pdb = find<V1PodDisruptionBudget>(objects(), 'PodDisruptionBudget', 'm2-http');
    const selector = pdb.spec?.selector ?? {};

    // Act
    const selected = workloads(objects()).filter((w) => selects(selector, w.template.metadata?.labels));

    // Assess
    expect(selected.map((w) => w.name)).toEqual(['m2-http']);
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(pdb.spec?.minAvailable).toBeUndefined();
  });

  it('routes the Service to the nginx port of the web pods only', () => {
    // Prepare
    const service = find<V1Service>(objects(), 'Service', 'm2-http');
    const port = service.spec?.ports?.[0];

    // Act
    const selected = workloads(objects()).filter((w) =>
      selects({ matchLabels: service.spec?.selector }, w.template.metadata?.labels),
    );

    // Assess
    expect(selected.map((w) => w.name)).toEqual(['m2-http']);
    expect(container('nginx').ports?.map((p) => p.name)).toContain(port?.targetPort);
  });

  it('exposes the shop through the shared ALB with IP targets and a host rule', () => {
    // Prepare
    const ingress = find<V1Ingress>(objects(), 'Ingress', 'm2-http');
    const annotations = ingress.metadata?.annotations ?? {};

    // Assess
    expect(ingress.spec?.ingressClassName).toBe('alb');
    expect(annotations['alb.ingress.kubernetes.io/group.name']).toBe('m2-shops');
    expect(annotations['alb.ingress.kubernetes.io/target-type']).toBe('ip');
    expect(annotations['alb.ingress.kubernetes.io/healthcheck-path']).toBe('/healthz');
    expect(ingress.spec?.rules?.map((r) => r.host)).toEqual(['example-shop.example.com']);
    expect(ingress.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name).toBe('m2-http');
  });
});
