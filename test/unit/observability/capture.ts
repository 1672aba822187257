import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import { metricNamespace } from '../../../lib/observability/metricNames.ts';
import { metricsDiagnostics, serviceName, type Telemetry } from '../../../lib/observability/telemetry.ts';

/** One CloudWatch EMF document as Powertools Metrics prints it. */
interface EmfLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/** One metric value as CloudWatch would extract it from an EMF line. */
interface EmittedMetric {
  readonly name: string;
  readonly unit: string;
  readonly value: unknown;
  readonly namespace: string;
  /** Every dimension name of the line, sorted, with its value. */
  readonly dimensions: Readonly<Record<string, unknown>>;
}

export interface CapturedOutput {
  /** Every non-empty line written to stdout or stderr while capturing. */
  readonly lines: string[];
  /** The lines that are JSON objects without `_aws`: Powertools Logger records. */
  logRecords(): Record<string, unknown>[];
  /** The metrics of every EMF line, in order. */
  metrics(): EmittedMetric[];
}

/**
 * Captures what Powertools writes. Both write through a `Console` over process.stdout/stderr (warn
 * and error levels go to stderr), so spying on the streams' `write` sees exactly the bytes Lambda
 * would ship to CloudWatch Logs. Restored by `vi.restoreAllMocks()`.
 */
export function captureOutput(): CapturedOutput {
  const lines: string[] = [];
  const grab = (chunk: string | Uint8Array): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') lines.push(line);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(grab as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(grab as typeof process.stderr.write);
  const objects = (): Record<string, unknown>[] =>
    lines.flatMap((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
      } catch {
        // Not JSON (a stray warning): neither a log record nor a metric, and the assertions say which they expected.
        return [];
      }
    });
  return {
    lines,
    logRecords: () => objects().filter((o) => !('_aws' in o)),
    metrics: () =>
      objects()
        .filter((o): o is EmfLine => '_aws' in o)
        .flatMap((emf) =>
          emf._aws.CloudWatchMetrics.flatMap((directive) =>
            directive.Metrics.map((m) => ({
              name: m.Name,
              unit: m.Unit,
              value: emf[m.Name],
              namespace: directive.Namespace,
              dimensions: Object.fromEntries(
                [...new Set(directive.Dimensions.flat())].sort().map((d) => [d, emf[d]]),
              ),
            })),
          ),
        ),
  };
}

/**
 * A Logger that logs every event it is allowed to, as POWERTOOLS_LOGGER_LOG_EVENT=true would make
 * it: proves the handlers' own `logEvent: false` wins, without touching the environment.
 */
class EventLoggingLogger extends Logger {
  override getLogEvent(): boolean {
    return true;
  }
}

/**
 * Fresh Powertools instances configured like the module singletons, but at DEBUG. With
 * `logEvents`, the logger logs every event unless told otherwise. Refuses to run when the
 * environment switches Powertools to dev mode (metrics off, printing through the global console)
 * or turns metrics off.
 */
export function powertools(options: { logEvents?: boolean } = {}): Telemetry {
  if (process.env.POWERTOOLS_DEV !== undefined || process.env.POWERTOOLS_METRICS_DISABLED !== undefined) {
    throw new Error('unset POWERTOOLS_DEV and POWERTOOLS_METRICS_DISABLED: these tests read the EMF output');
  }
  const logger = new (options.logEvents ? EventLoggingLogger : Logger)({ serviceName, logLevel: 'DEBUG' });
  return {
    logger,
    metrics: new Metrics({ namespace: metricNamespace, serviceName, logger: metricsDiagnostics(logger) }),
  };
}

/** Output captured and fresh Powertools instances, for one handler built in one test. */
export function capturedTelemetry(options: { logEvents?: boolean } = {}): {
  out: CapturedOutput;
  telemetry: Telemetry;
} {
  return { out: captureOutput(), telemetry: powertools(options) };
}

/**
 * The Lambda context a handler receives (function name/ARN, memory, request id, time left).
 * `remainingMs` may follow a test's clock.
 */
export function lambdaContext(
  functionKey: string,
  memoryMb: number,
  remainingMs: number | (() => number),
): Context {
  const functionName = `m2-eks-pipeline-dev-${functionKey}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: typeof remainingMs === 'number' ? () => remainingMs : remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
