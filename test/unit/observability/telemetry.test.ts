import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  lambdaContextOptions,
  powertoolsLog,
  powertoolsMetricSink,
  withFields,
} from '../../../lib/observability/telemetry.ts';
import { captureOutput, lambdaContext, powertools } from './capture.ts';

const context = lambdaContext('rollout', 512, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('powertoolsMetricSink', () => {
  it('buffers undimensioned values until the flush, in the catalogue namespace with only the service dimension', () => {
    // Prepare
    const out = captureOutput();
    const { metrics } = powertools();
    const sink = powertoolsMetricSink(metrics);

    // Act
    sink.count('VariantsGenerated', 9);
    sink.bytes('OriginalBytes', 311_627);
    sink.milliseconds('VariantGenerationTime', 840);
    const beforeFlush = out.metrics().length;
    metrics.publishStoredMetrics();

    // Assess
    expect(beforeFlush).toBe(0);
    expect(out.metrics()).toEqual([
      {
        name: 'VariantsGenerated',
        unit: 'Count',
        value: 9,
        namespace: 'M2EksPipeline',
        dimensions: { service: 'm2-eks-pipeline' },
      },
      {
        name: 'OriginalBytes',
        unit: 'Bytes',
        value: 311_627,
        namespace: 'M2EksPipeline',
        dimensions: { service: 'm2-eks-pipeline' },
      },
      {
        name: 'VariantGenerationTime',
        unit: 'Milliseconds',
        value: 840,
        namespace: 'M2EksPipeline',
        dimensions: { service: 'm2-eks-pipeline' },
      },
    ]);
  });

  it('writes a dimensioned value at once, with the service dimension kept and the buffer untouched', () => {
    // Prepare
    const out = captureOutput();
    const { metrics } = powertools();
    const sink = powertoolsMetricSink(metrics);
    sink.count('RolloutsSucceeded');

    // Act
    sink.count('DesiredReplicas', 4, { namespace: 'shop-a', deployment: 'm2-consumer-export' });
    sink.milliseconds('RolloutDuration', 93_000, { outcome: 'succeeded' });
    sink.bytes('VariantBytes', 1024, { format: 'webp' });

    // Assess
    const service = 'm2-eks-pipeline';
    expect(out.metrics()).toEqual([
      expect.objectContaining({
        name: 'DesiredReplicas',
        unit: 'Count',
        value: 4,
        dimensions: { deployment: 'm2-consumer-export', namespace: 'shop-a', service },
      }),
      expect.objectContaining({
        name: 'RolloutDuration',
        unit: 'Milliseconds',
        value: 93_000,
        dimensions: { outcome: 'succeeded', service },
      }),
      expect.objectContaining({
        name: 'VariantBytes',
        unit: 'Bytes',
        dimensions: { format: 'webp', service },
      }),
    ]);
    metrics.publishStoredMetrics();
    expect(out.metrics().at(-1)).toEqual(
      expect.objectContaining({ name: 'RolloutsSucceeded', value: 1, dimensions: { service } }),
    );
  });
});

describe('metricsDiagnostics', () => {
  it('prints Powertools Metrics notices as JSON log records, an empty flush only at debug', () => {
    // Prepare
    const out = captureOutput();
    const { metrics } = powertools();
    const sink = powertoolsMetricSink(metrics);

    // Act: a dimensioned value leaves the buffer empty; an empty dimension value is refused.
    sink.count('ScaleEvents', 1, { direction: 'up' });
    metrics.publishStoredMetrics();
    sink.count('TargetErrors', 1, { reason: '' });

    // Assess
    expect(out.lines.every((line) => line.startsWith('{'))).toBe(true);
    expect(
      out.logRecords().map((r) => [r.level, String(r.message).split(' ').slice(0, 3).join(' ')]),
    ).toEqual([
      ['DEBUG', 'No application metrics'],
      ['WARN', 'The dimension reason'],
    ]);
  });
});

describe('withFields', () => {
  it('adds the fields to every level, lets a line override them and leaves the parent log without them', () => {
    // Prepare
    const out = captureOutput();
    const { logger } = powertools();
    const log = powertoolsLog(logger);
    const recordLog = withFields(log, { bucket: 'media', key: 'catalog/product/a.jpg' });

    // Act
    recordLog.debug('d');
    recordLog.info('i', { variants: 3 });
    recordLog.warn('w', { key: 'catalog/product/b.jpg' });
    recordLog.error('e');
    log.info('after the record');

    // Assess
    const records = out.logRecords();
    expect(records.map((r) => [r.level, r.message, r.bucket, r.key])).toEqual([
      ['DEBUG', 'd', 'media', 'catalog/product/a.jpg'],
      ['INFO', 'i', 'media', 'catalog/product/a.jpg'],
      ['WARN', 'w', 'media', 'catalog/product/b.jpg'],
      ['ERROR', 'e', 'media', 'catalog/product/a.jpg'],
      ['INFO', 'after the record', undefined, undefined],
    ]);
    expect(records[1]?.variants).toBe(3);
  });
});

describe('lambdaContextOptions', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const event = {
    'CodePipeline.job': { id: 'job-1', data: { artifactCredentials: { secretAccessKey: secret } } },
  };

  async function invokeWith(options: Parameters<typeof injectLambdaContext>[1]): Promise<string[]> {
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
    const out = captureOutput();
    const { logger } = powertools();
    const handler = middy(async () => {
      logger.info('handled');
      return 'ok';
    }).use(injectLambdaContext(logger, options));
    await handler(event, context);
    return out.lines;
  }

  it('keeps the event out of the logs even when POWERTOOLS_LOGGER_LOG_EVENT asks for it', async () => {
    const lines = await invokeWith(lambdaContextOptions);

    expect(lines.some((l) => l.includes('"message":"handled"'))).toBe(true);
    expect(lines.filter((l) => l.includes(secret))).toEqual([]);
  });

  it('would log the event (and its credentials) without it — the check above can fail', async () => {
    const lines = await invokeWith({ resetKeys: true });

    expect(lines.filter((l) => l.includes(secret))).toHaveLength(1);
  });
});
