import type { Log, MetricSink } from '../../lib/observability/telemetry.ts';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** Records what lib/ logs and counts, so tests can assert that a rejection names bucket, key and reason. */
export function recordingTelemetry(): {
  log: Log;
  metrics: MetricSink;
  lines: LogLine[];
  counts: Map<string, number>;
} {
  const lines: LogLine[] = [];
  const counts = new Map<string, number>();
  const at =
    (level: LogLine['level']) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields });
  const add = (name: string, value: number) => counts.set(name, (counts.get(name) ?? 0) + value);
  return {
    lines,
    counts,
    log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    metrics: {
      count: (name, value = 1, dimensions) =>
        add(
          dimensions
            ? `${name}{${Object.entries(dimensions)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')}}`
            : name,
          value,
        ),
      milliseconds: (name, value) => add(name, value),
      bytes: (name, value) => add(name, value),
    },
  };
}
