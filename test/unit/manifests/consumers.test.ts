import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { configMapData, find, ofKind, render, shopOverlays } from '../../helpers/manifests.ts';

const overlay = shopOverlays[0];
const shop = overlay.split('/').at(-1) ?? '';
const objects = () => render(overlay).objects;
const consumers = () =>
  ofKind<V1Deployment>(objects(), 'Deployment').filter(
    (d) => d.spec?.template.metadata?.labels?.['app.kubernetes.io/component'] === 'consumer',
  );
const consumerNames = consumers().map((d) => d.metadata?.name ?? '');

const prefix = 'scaling.m2-eks-pipeline.io/';
const annotation = (d: V1Deployment, key: string): string | undefined =>
  d.metadata?.annotations?.[`${prefix}${key}`];

/** A non-negative integer annotation, as consumerScaler parses it; throws on anything else. */
function integer(d: V1Deployment, key: string): number {
  const raw = annotation(d, key) ?? '';
  if (!/^\d+$/.test(raw))
    throw new Error(`${d.metadata?.name} ${key}="${raw}" is not a non-negative integer`);
  return Number(raw);
}

/** `consumer-run.sh <consumer> <max messages>` from the container command. */
function runArguments(d: V1Deployment): { consumer: string; maxMessages: number } {
  const command = d.spec?.template.spec?.containers[0]?.command ?? [];
  const at = command.findIndex((part) => part.endsWith('/consumer-run.sh'));
  const consumer = command[at + 1];
  const maxMessages = Number(command[at + 2]);
  if (at < 0 || consumer === undefined || !Number.isInteger(maxMessages)) {
    throw new Error(`${d.metadata?.name} does not run consumer-run.sh <consumer> <max>`);
  }
  return { consumer, maxMessages };
}

describe('consumer Deployments', () => {
  it('run at least two Magento consumers, including product attribute updates', () => {
    // Prepare
    const productUpdates = find<V1Deployment>(objects(), 'Deployment', 'm2-consumer-product-updates');

    // Assess
    expect(consumerNames.length).toBeGreaterThanOrEqual(2);
    expect(consumerNames.every((n) => n.startsWith('m2-consumer-'))).toBe(true);
    expect(runArguments(productUpdates).consumer).toBe('product_action_attribute.update');
  });

  it('run distinct Magento consumers', () => {
    // Act
    const names = consumers().map((d) => runArguments(d).consumer);

    // Assess
    expect(new Set(names).size).toBe(names.length);
  });
});

describe.each(consumerNames)('%s', (name) => {
  const deployment = () => find<V1Deployment>(objects(), 'Deployment', name);
  const pod = () => {
    const spec = deployment().spec?.template.spec;
    if (spec === undefined) throw new Error(`${name} has no pod spec`);
    return spec;
  };

  it('opts into consumerScaler with well-formed scaling annotations', () => {
    // Act
    const min = integer(deployment(), 'min-replicas');
    const max = integer(deployment(), 'max-replicas');
    const url = new URL(annotation(deployment(), 'queue-url') ?? '');

    // Assess
    expect(deployment().metadata?.labels?.[`${prefix}enabled`]).toBe('true');
    expect(integer(deployment(), 'messages-per-pod')).toBeGreaterThanOrEqual(1);
    expect(max).toBeGreaterThanOrEqual(Math.max(min, 1));
    expect(integer(deployment(), 'cooldown-seconds')).toBeGreaterThanOrEqual(60);
    expect(Number(annotation(deployment(), 'seconds-per-message'))).toBeGreaterThan(0);
    expect(annotation(deployment(), 'paused')).toBeUndefined();
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toMatch(/^sqs\.[a-z0-9-]+\.amazonaws\.com$/);
    expect(url.pathname).toMatch(new RegExp(`^/\\d{12}/${shop}-[A-Za-z0-9_-]{1,80}$`));
  });

  it('leaves replicas to the scaler', () => {
    expect(deployment().spec?.replicas).toBeUndefined();
  });

  it('waits for the worst-case batch before the kubelet kills the pod', () => {
    // Prepare
    const { maxMessages } = runArguments(deployment());
    const worstBatch = Number(
      deployment().metadata?.annotations?.['m2-eks-pipeline.io/worst-case-batch-seconds'],
    );
    const typical = Number(annotation(deployment(), 'seconds-per-message'));

    // Act
    const grace = pod().terminationGracePeriodSeconds ?? 30;

    // Assess
    expect(worstBatch).toBeGreaterThanOrEqual(maxMessages * typical);
    expect(grace).toBeGreaterThanOrEqual(worstBatch + 30);
  });

  it('drains through the preStop hook shipped in m2-scripts', () => {
    // Prepare
    const scripts = configMapData(objects(), 'm2-scripts');
    const volume = pod().volumes?.find((v) => v.configMap?.name?.startsWith('m2-scripts-'));

    // Act
    const preStop = pod().containers[0]?.lifecycle?.preStop?.exec?.command ?? [];

    // Assess
    expect(preStop.join(' ')).toContain('consumer-drain.sh');
    expect(Object.keys(scripts)).toEqual(expect.arrayContaining(['consumer-run.sh', 'consumer-drain.sh']));
    expect(volume).toBeDefined();
  });
});
