import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { metricNamespace } from './metricNames.ts';

/** The logging calls lib/ makes: structured, one object per line, identifiers only — never whole events. */
export interface Log {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The metric calls lib/ makes (CloudWatch EMF through Powertools in Lambda). Names come from
 * `metricNames` (metricNames.ts). Metrics with dimensions go out at once as their own EMF line, the others
 * are buffered until the handler's logMetrics middleware flushes them.
 */
export interface MetricSink {
  /**
   * A value in unit Count: either occurrences (summed on the dashboard) or how many things there
   * are right now — replicas, messages — read with Maximum/Average.
   */
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  milliseconds(name: string, value: number, dimensions?: Record<string, string>): void;
  bytes(name: string, value: number, dimensions?: Record<string, string>): void;
}

export const serviceName = 'm2-eks-pipeline';

type MetricsDiagnostics = NonNullable<NonNullable<ConstructorParameters<typeof Metrics>[0]>['logger']>;

/**
 * Where Powertools Metrics sends its own notices: through the JSON logger rather than as plain
 * text. "No application metrics to publish" is demoted to debug — an invocation whose metrics all
 * had dimensions (sent at once as single metrics: a refused image request, a scaler run that
 * changed nothing) leaves the buffer empty, and a WARN on every such invocation would be noise.
 */
export function metricsDiagnostics(l: Logger): MetricsDiagnostics {
  return {
    debug: (message: string) => l.debug(message),
    info: (message: string) => l.info(message),
    warn: (message: string) =>
      message.startsWith('No application metrics to publish') ? l.debug(message) : l.warn(message),
    error: (message: string) => l.error(message),
  };
}

/**
 * The Powertools instances one function logs and counts through. A handler factory takes them as a
 * dependency: the telemetry middlewares and the {@link Log}/{@link MetricSink} given to lib/ must
 * share them, or the flush at the end of an invocation would miss what lib/ counted.
 */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** X-Ray subsegments of the handler (and, through `traced`, of the SDK clients); absent: none. */
  readonly tracer?: Tracer;
}

const logger = new Logger({ serviceName });

/**
 * The production {@link Telemetry}: module singletons, created at cold start and shared by the handler.
 * Powertools turns the tracer off outside Lambda (no AWS_EXECUTION_ENV: the tests, `sls invoke local`,
 * the demo) and with POWERTOOLS_TRACE_ENABLED=false, so none of those looks for an X-Ray daemon.
 */
export const lambdaTelemetry: Telemetry & { readonly tracer: Tracer } = Object.freeze({
  logger,
  metrics: new Metrics({ namespace: metricNamespace, serviceName, logger: metricsDiagnostics(logger) }),
  tracer: new Tracer({ serviceName }),
});

/** {@link MetricSink} over Powertools Metrics; dimensioned values go out as single-metric EMF lines. */
export const powertoolsMetricSink = (m: Metrics): MetricSink => {
  const add = (
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
    dimensions?: Record<string, string>,
  ) => {
    if (dimensions && Object.keys(dimensions).length > 0) {
      // A single metric keeps the default `service` dimension and leaves the buffered metrics' dimensions alone.
      const single = m.singleMetric();
      for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, v);
      single.addMetric(name, unit, value);
    } else {
      m.addMetric(name, unit, value);
    }
  };
  return {
    count: (name, value = 1, dimensions) => add(name, MetricUnit.Count, value, dimensions),
    milliseconds: (name, value, dimensions) => add(name, MetricUnit.Milliseconds, value, dimensions),
    bytes: (name, value, dimensions) => add(name, MetricUnit.Bytes, value, dimensions),
  };
};

/** {@link Log} over the Powertools Logger. */
export const powertoolsLog = (l: Logger): Log => ({
  debug: (message, fields) => l.debug(message, fields ?? {}),
  info: (message, fields) => l.info(message, fields ?? {}),
  warn: (message, fields) => l.warn(message, fields ?? {}),
  error: (message, fields) => l.error(message, fields ?? {}),
});

/** The {@link Log} and {@link MetricSink} lib/ gets, over one {@link Telemetry}'s instances. */
export const telemetryPorts = (t: Telemetry): { readonly log: Log; readonly metrics: MetricSink } => ({
  log: powertoolsLog(t.logger),
  metrics: powertoolsMetricSink(t.metrics),
});

/**
 * A {@link Log} that adds `fields` to every line, for the correlation identifiers of one unit of
 * work (an S3 record, a scaling target, a CodePipeline job). Lines logged through `log` itself
 * stay without them, so nothing leaks into the next unit — and unlike `logger.appendKeys` it is
 * safe when units run concurrently. A line's own fields win over these.
 *
 * @example const recordLog = withFields(log, { bucket, key }); recordLog.info('variants generated', { variants: 9 })
 */
export function withFields(log: Log, fields: Record<string, unknown>): Log {
  return {
    debug: (message, own) => log.debug(message, { ...fields, ...own }),
    info: (message, own) => log.info(message, { ...fields, ...own }),
    warn: (message, own) => log.warn(message, { ...fields, ...own }),
    error: (message, own) => log.error(message, { ...fields, ...own }),
  };
}
