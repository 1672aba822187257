import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The logging calls lib/ makes: structured, one object per line, identifiers only — never whole events. */
export interface Log {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The metric calls lib/ makes (CloudWatch EMF through Powertools in Lambda). */
export interface MetricSink {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  milliseconds(name: string, value: number): void;
  bytes(name: string, value: number): void;
}

export const serviceName = 'm2-eks-pipeline';

/** Module singletons, created at cold start and shared by handlers. */
export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: 'M2EksPipeline', serviceName });

/** {@link MetricSink} over Powertools Metrics; dimensioned counts go out as single-metric EMF lines. */
export const powertoolsMetricSink = (m: Metrics = metrics): MetricSink => ({
  count(name, value = 1, dimensions) {
    if (dimensions && Object.keys(dimensions).length > 0) {
      const single = m.singleMetric();
      for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, v);
      single.addMetric(name, MetricUnit.Count, value);
    } else {
      m.addMetric(name, MetricUnit.Count, value);
    }
  },
  milliseconds(name, value) {
    m.addMetric(name, MetricUnit.Milliseconds, value);
  },
  bytes(name, value) {
    m.addMetric(name, MetricUnit.Bytes, value);
  },
});

/** {@link Log} over the Powertools Logger. */
export const powertoolsLog = (l: Logger = logger): Log => ({
  debug: (message, fields) => l.debug(message, fields ?? {}),
  info: (message, fields) => l.info(message, fields ?? {}),
  warn: (message, fields) => l.warn(message, fields ?? {}),
  error: (message, fields) => l.error(message, fields ?? {}),
});
