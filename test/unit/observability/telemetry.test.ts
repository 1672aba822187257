import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  powertoolsLog,
  powertoolsMetricSink,
  serviceName,
  type Telemetry,
  withFields,
} from '../../../lib/observability/telemetry.ts';
import { telemetryMiddlewares } from '../../../lib/observability/telemetryMiddlewares.ts';
import { capturedTelemetry, captureOutput, lambdaContext, powertools } from './capture.ts';

const context = lambdaContext('rollout', 512, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
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

describe('telemetryMiddlewares', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const event = {
    'CodePipeline.job': { id: 'job-1', data: { artifactCredentials: { secretAccessKey: secret } } },
  };

  /** A handler that logs once (with a key appended for the invocation) and counts once. */
  function handlerUnder(middlewares: (t: Telemetry) => MiddlewareObj[], fail = false) {
    const { out, telemetry } = capturedTelemetry({ logEvents: true });
    const handler = middy(async () => {
      telemetry.logger.appendKeys({ jobId: 'job-1' });
      telemetry.logger.info('handled');
      telemetry.metrics.addMetric('RolloutsSucceeded', 'Count', 1);
      if (fail) throw new Error('the rollout failed');
      return 'ok';
    }).use(middlewares(telemetry));
    return { out, telemetry, handler };
  }

  it('keeps the event out of the logs even when the logger is set to log every event', async () => {
    // Prepare
    const { out, handler } = handlerUnder(telemetryMiddlewares);

    // Act
    await handler(event, context);

    // Assess
    expect(out.logRecords().map((r) => r.message)).toEqual(['handled']);
    expect(out.lines.filter((l) => l.includes(secret))).toEqual([]);
  });

  it('would log the event (and its credentials) without them — the check above can fail', async () => {
    // Prepare
    const { out, handler } = handlerUnder(({ logger }) => [injectLambdaContext(logger, { resetKeys: true })]);

    // Act
    await handler(event, context);

    // Assess
    expect(out.lines.filter((l) => l.includes(secret))).toHaveLength(1);
  });

  it('puts the Lambda context on every line and drops the keys appended during an invocation after it', async () => {
    // Prepare
    const { out, telemetry, handler } = handlerUnder(telemetryMiddlewares);

    // Act
    await handler(event, context);
    telemetry.logger.info('between invocations');

    // Assess
    const [during, after] = out.logRecords();
    expect(during).toEqual(
      expect.objectContaining({
        message: 'handled',
        jobId: 'job-1',
        function_name: context.functionName,
        function_request_id: context.awsRequestId,
      }),
    );
    expect(after?.message).toBe('between invocations');
    expect(after).not.toHaveProperty('jobId');
  });

  it.each([
    ['returns', false],
    ['throws', true],
  ])('flushes the buffered metrics when the handler %s', async (_, fail) => {
    // Prepare
    const { out, handler } = handlerUnder(telemetryMiddlewares, fail);

    // Act
    const outcome = await handler(event, context).then(
      () => 'returned',
      (error: unknown) => (error instanceof Error ? error.message : 'thrown'),
    );

    // Assess
    expect(outcome).toBe(fail ? 'the rollout failed' : 'returned');
    expect(out.metrics()).toEqual([
      expect.objectContaining({ name: 'RolloutsSucceeded', value: 1, dimensions: { service: serviceName } }),
    ]);
  });
});
