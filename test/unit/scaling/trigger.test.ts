import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConsumerScalerConfig } from '../../../lib/config/consumerScalerConfig.ts';
import { parseScalerTrigger } from '../../../lib/scaling/trigger.ts';

const sample = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'events', name), 'utf8'));

describe('parseScalerTrigger', () => {
  it('recognises the alarm state change sample event', () => {
    expect(parseScalerTrigger(sample('cloudwatch-alarm.json'))).toEqual({
      kind: 'alarm',
      alarmName: 'm2-eks-pipeline-dev-shop-queue-backlog',
      state: 'ALARM',
    });
  });

  it('recognises the scheduled sample event', () => {
    expect(parseScalerTrigger(sample('schedule.json'))).toEqual({
      kind: 'schedule',
      rule: 'm2-eks-pipeline-dev-consumer-scaler-backstop',
    });
  });

  it.each([
    ['an S3 notification', { Records: [] }, 'detail-type: none', undefined],
    [
      'another EventBridge event',
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' },
      'EC2',
      'EC2 Instance State-change Notification',
    ],
    ['nothing', null, 'none', undefined],
  ])('throws for %s', (_name, event, message, detailType) => {
    expect(() => parseScalerTrigger(event)).toThrow(message);
    expect(() => parseScalerTrigger(event)).toThrow(
      expect.objectContaining({ name: 'UnknownTriggerError', detailType }),
    );
  });
});

describe('loadConsumerScalerConfig', () => {
  it('has working defaults', () => {
    const config = loadConsumerScalerConfig({});
    expect(config.run).toMatchObject({
      selector: 'scaling.m2-eks-pipeline.io/enabled=true',
      intervalMs: 10_000,
      maxRunMs: 58_000,
      idlePollMs: 3000,
      policy: { confirmReads: 2, scaleDownWindowSeconds: 180, readSpacingSeconds: 5, includeDelayed: false },
    });
    expect(config.run.policy.maxSurge).toBeUndefined();
  });

  it.each([
    ['SCALER_INTERVAL_SECONDS', { SCALER_INTERVAL_SECONDS: 'ten' }],
    ['SCALER_CONFIRM_READS', { SCALER_CONFIRM_READS: '0' }],
    ['SCALER_INCLUDE_DELAYED', { SCALER_INCLUDE_DELAYED: 'yes' }],
    ['SCALER_READ_SPACING_SECONDS', { SCALER_READ_SPACING_SECONDS: '10', SCALER_INTERVAL_SECONDS: '10' }],
    ['SCALER_IDLE_POLL_SECONDS', { SCALER_IDLE_POLL_SECONDS: '2.5' }],
    ['SCALER_IDLE_POLL_SECONDS', { SCALER_IDLE_POLL_SECONDS: '61' }],
    ['SCALER_POLL_WHEN_IDLE', { SCALER_POLL_WHEN_IDLE: 'true' }],
  ])('fails naming %s when it is malformed', (name, env) => {
    expect(() => loadConsumerScalerConfig(env)).toThrow(name);
    expect(() => loadConsumerScalerConfig(env)).toThrow(
      expect.objectContaining({ variables: expect.arrayContaining([name]) }),
    );
  });

  it('turns the idle watch off with SCALER_IDLE_POLL_SECONDS=0', () => {
    expect(loadConsumerScalerConfig({ SCALER_IDLE_POLL_SECONDS: '0' }).run.idlePollMs).toBe(0);
  });

  it('names the replacement when the retired SCALER_POLL_WHEN_IDLE is set', () => {
    expect(() => loadConsumerScalerConfig({ SCALER_POLL_WHEN_IDLE: 'false' })).toThrow(
      'replaced by SCALER_IDLE_POLL_SECONDS',
    );
  });
});
