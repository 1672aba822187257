import type { V1Deployment } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { targetAnnotations as a } from '../../../lib/scaling/annotations.ts';
import { parseScalingTarget, queueNameOf } from '../../../lib/scaling/target.ts';

const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-product-updates';
const good: Record<string, string> = {
  [a.queueUrl]: queueUrl,
  [a.messagesPerPod]: '20',
  [a.minReplicas]: '0',
  [a.maxReplicas]: '10',
  [a.cooldownSeconds]: '300',
  [a.secondsPerMessage]: '5',
};
const deployment = (annotations: Record<string, string>): V1Deployment => ({
  metadata: { namespace: 'shop-a', name: 'm2-consumer-product-updates', annotations },
});
const without = (key: string): Record<string, string> =>
  Object.fromEntries(Object.entries(good).filter(([k]) => k !== key));

describe('parseScalingTarget', () => {
  it('reads every annotation of a well-formed target', () => {
    expect(parseScalingTarget(deployment(good))).toEqual({
      kind: 'target',
      target: {
        namespace: 'shop-a',
        name: 'm2-consumer-product-updates',
        queueUrl,
        bounds: {
          messagesPerPod: 20,
          minReplicas: 0,
          maxReplicas: 10,
          cooldownSeconds: 300,
          secondsPerMessage: 5,
        },
      },
    });
  });

  it('reads the budget priority', () => {
    const parsed = parseScalingTarget(deployment({ ...good, [a.priority]: '10' }));
    expect(parsed.kind === 'target' && parsed.target.priority).toBe(10);
  });

  it('reads the wait SLO', () => {
    const parsed = parseScalingTarget(deployment({ ...good, [a.maxWaitSeconds]: '300' }));
    expect(parsed.kind === 'target' && parsed.target.bounds.maxWaitSeconds).toBe(300);
  });

  it('accepts a moto queue URL and no seconds-per-message', () => {
    const parsed = parseScalingTarget(
      deployment({
        ...without(a.secondsPerMessage),
        [a.queueUrl]: 'http://127.0.0.1:4566/123456789012/q.fifo',
      }),
    );
    expect(parsed.kind === 'target' && parsed.target.bounds).toEqual({
      messagesPerPod: 20,
      minReplicas: 0,
      maxReplicas: 10,
      cooldownSeconds: 300,
    });
  });

  it.each<[string, Record<string, string>, { replicas: number; afterReads: number } | undefined]>([
    ['holds today without a fallback', {}, undefined],
    [
      'applies the fallback after 3 readings by default',
      { [a.fallbackReplicas]: '2' },
      { replicas: 2, afterReads: 3 },
    ],
    [
      'takes the declared readings',
      { [a.fallbackReplicas]: '10', [a.fallbackAfterReads]: '1' },
      { replicas: 10, afterReads: 1 },
    ],
  ])('reads the fallback floor: %s', (_name, extra, fallback) => {
    const parsed = parseScalingTarget(deployment({ ...good, ...extra }));
    expect(parsed.kind === 'target' && parsed.target.bounds.fallback).toEqual(fallback ?? undefined);
  });

  it("keeps the Deployment's uid for its Events, also when the target is invalid", () => {
    const withUid = (annotations: Record<string, string>): V1Deployment => ({
      metadata: { namespace: 'shop-a', name: 'c', uid: 'u-1', annotations },
    });
    const target = parseScalingTarget(withUid(good));
    expect(target.kind === 'target' && target.target.uid).toBe('u-1');
    const invalid = parseScalingTarget(withUid(without(a.queueUrl)));
    expect(invalid.kind === 'invalid' && invalid.uid).toBe('u-1');
  });

  it('reports a paused target', () => {
    expect(parseScalingTarget(deployment({ ...good, [a.paused]: 'true' })).kind).toBe('paused');
  });

  it.each<[string, Record<string, string>, string]>([
    ['the queue URL is missing', without(a.queueUrl), a.queueUrl],
    ['the queue URL is not a URL', { ...good, [a.queueUrl]: 'shop-a-product-updates' }, a.queueUrl],
    [
      'the queue URL has no account',
      { ...good, [a.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/q' },
      a.queueUrl,
    ],
    ['messages-per-pod is zero', { ...good, [a.messagesPerPod]: '0' }, a.messagesPerPod],
    ['messages-per-pod is not a number', { ...good, [a.messagesPerPod]: 'twenty' }, a.messagesPerPod],
    ['min-replicas is negative', { ...good, [a.minReplicas]: '-1' }, a.minReplicas],
    ['min-replicas exceeds max-replicas', { ...good, [a.minReplicas]: '11' }, a.minReplicas],
    ['max-replicas is zero', { ...good, [a.maxReplicas]: '0' }, a.maxReplicas],
    ['max-replicas is fractional', { ...good, [a.maxReplicas]: '2.5' }, a.maxReplicas],
    ['cooldown-seconds is missing', without(a.cooldownSeconds), a.cooldownSeconds],
    ['cooldown-seconds has a unit', { ...good, [a.cooldownSeconds]: '300s' }, a.cooldownSeconds],
    ['seconds-per-message is zero', { ...good, [a.secondsPerMessage]: '0' }, a.secondsPerMessage],
    ['seconds-per-message is not a number', { ...good, [a.secondsPerMessage]: 'fast' }, a.secondsPerMessage],
    ['paused is not a boolean', { ...good, [a.paused]: 'yes' }, a.paused],
    ['max-replicas is beyond any plan', { ...good, [a.maxReplicas]: '1001' }, a.maxReplicas],
    ['cooldown-seconds exceeds a day', { ...good, [a.cooldownSeconds]: '86401' }, a.cooldownSeconds],
    ['fallback-replicas exceeds max-replicas', { ...good, [a.fallbackReplicas]: '11' }, a.fallbackReplicas],
    [
      'fallback-replicas is below min-replicas',
      { ...good, [a.minReplicas]: '2', [a.fallbackReplicas]: '1' },
      a.fallbackReplicas,
    ],
    ['fallback-replicas is not a number', { ...good, [a.fallbackReplicas]: 'some' }, a.fallbackReplicas],
    [
      'fallback-after-reads comes without fallback-replicas',
      { ...good, [a.fallbackAfterReads]: '3' },
      a.fallbackAfterReads,
    ],
    [
      'fallback-after-reads is zero',
      { ...good, [a.fallbackReplicas]: '2', [a.fallbackAfterReads]: '0' },
      a.fallbackAfterReads,
    ],
    [
      'fallback-after-reads is beyond the limit',
      { ...good, [a.fallbackReplicas]: '2', [a.fallbackAfterReads]: '101' },
      a.fallbackAfterReads,
    ],
    ['priority is negative', { ...good, [a.priority]: '-1' }, a.priority],
    ['priority is beyond the limit', { ...good, [a.priority]: '1001' }, a.priority],
    ['max-wait-seconds is not a whole number', { ...good, [a.maxWaitSeconds]: '2m' }, a.maxWaitSeconds],
    ['max-wait-seconds is zero', { ...good, [a.maxWaitSeconds]: '0' }, a.maxWaitSeconds],
    ['max-wait-seconds exceeds a day', { ...good, [a.maxWaitSeconds]: '86401' }, a.maxWaitSeconds],
    [
      'max-wait-seconds comes without seconds-per-message',
      { ...without(a.secondsPerMessage), [a.maxWaitSeconds]: '300' },
      a.maxWaitSeconds,
    ],
    [
      'max-wait-seconds is no longer than one message takes',
      { ...good, [a.maxWaitSeconds]: '5' },
      a.maxWaitSeconds,
    ],
  ])('rejects the target when %s, naming the annotation', (_name, annotations, key) => {
    const parsed = parseScalingTarget(deployment(annotations));
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind !== 'invalid') return;
    expect(parsed.error.annotation).toBe(key);
    expect(parsed.error.message).toContain('shop-a/m2-consumer-product-updates');
  });

  it('never throws and yields only consistent bounds, whatever the annotations', () => {
    const value = fc.oneof(fc.string(), fc.integer({ min: -5, max: 500 }).map(String), fc.constant(queueUrl));
    const keys = fc.constantFrom(...Object.values(a));
    fc.assert(
      fc.property(fc.dictionary(keys, value), (annotations) => {
        const parsed = parseScalingTarget(deployment({ ...good, ...annotations }));
        if (parsed.kind !== 'target') return;
        const b = parsed.target.bounds;
        expect(b.messagesPerPod).toBeGreaterThanOrEqual(1);
        expect(b.maxReplicas).toBeGreaterThanOrEqual(Math.max(1, b.minReplicas));
        if (b.fallback !== undefined) {
          expect(b.fallback.replicas).toBeGreaterThanOrEqual(b.minReplicas);
          expect(b.fallback.replicas).toBeLessThanOrEqual(b.maxReplicas);
        }
      }),
    );
  });

  it('takes the queue name from the URL', () => {
    expect(queueNameOf(queueUrl)).toBe('shop-a-product-updates');
  });
});
