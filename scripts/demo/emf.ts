/** One metric value read back from an EMF (CloudWatch Embedded Metric Format) log line. */
export interface EmfMetric {
  readonly name: string;
  readonly unit: string;
  /** The sum when the line aggregates several values of the metric. */
  readonly value: number;
  /** The dimension values of the line (e.g. `outcome`, `direction`). */
  readonly dimensions: Readonly<Record<string, string>>;
}

interface EmfDirective {
  readonly Namespace?: unknown;
  readonly Dimensions?: unknown;
  readonly Metrics?: unknown;
}

/**
 * The metrics in one JSON log line, if it is an EMF line (Powertools Metrics prints one per
 * invocation); an empty list for ordinary log lines. In AWS, CloudWatch extracts exactly these.
 */
export function emfMetrics(line: Readonly<Record<string, unknown>>): EmfMetric[] {
  const aws = line._aws as { CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws !== 'object' || aws === null || !Array.isArray(aws.CloudWatchMetrics)) return [];
  return (aws.CloudWatchMetrics as EmfDirective[]).flatMap((directive) => {
    const dimensionNames = Array.isArray(directive.Dimensions)
      ? (directive.Dimensions as unknown[]).flat().filter((d): d is string => typeof d === 'string')
      : [];
    const dimensions = Object.fromEntries(
      dimensionNames.flatMap((d) => (typeof line[d] === 'string' ? [[d, line[d] as string]] : [])),
    );
    const metrics = Array.isArray(directive.Metrics)
      ? (directive.Metrics as { Name?: unknown; Unit?: unknown }[])
      : [];
    return metrics.flatMap((m) => {
      if (typeof m.Name !== 'string') return [];
      const raw = line[m.Name];
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
      if (values.length === 0) return [];
      return [
        {
          name: m.Name,
          unit: typeof m.Unit === 'string' ? m.Unit : 'None',
          value: values.reduce((a, b) => a + b, 0),
          dimensions,
        },
      ];
    });
  });
}

/** Collects the EMF metrics a function host prints, for totals per metric name. */
export class MetricTally {
  private readonly seen: EmfMetric[] = [];

  /** Feed every JSON log line here (LambdaHost's onLogLine). */
  readonly onLogLine = (line: Record<string, unknown>): void => {
    this.seen.push(...emfMetrics(line));
  };

  /** Sum of every value of `name` seen since `since` (an index from {@link mark}), optionally matching dimensions. */
  total(name: string, since = 0, dimensions: Readonly<Record<string, string>> = {}): number {
    return this.seen
      .slice(since)
      .filter((m) => m.name === name && Object.entries(dimensions).every(([k, v]) => m.dimensions[k] === v))
      .reduce((sum, m) => sum + m.value, 0);
  }

  /** Every value of `name` since `since`, in arrival order. */
  values(name: string, since = 0): EmfMetric[] {
    return this.seen.slice(since).filter((m) => m.name === name);
  }

  /** A position to count from later. */
  mark(): number {
    return this.seen.length;
  }
}
