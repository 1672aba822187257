import { describe, expect, it } from 'vitest';
import { emfMetrics, MetricTally } from '../../../scripts/demo/emf.ts';

const emfLine = (metrics: Record<string, number | number[]>, dims: Record<string, string> = {}) => ({
  _aws: {
    Timestamp: 1,
    CloudWatchMetrics: [
      {
        Namespace: 'M2EksPipeline',
        Dimensions: [['service', ...Object.keys(dims)]],
        Metrics: Object.keys(metrics).map((Name) => ({
          Name,
          Unit: Name.endsWith('Bytes') ? 'Bytes' : 'Count',
        })),
      },
    ],
  },
  service: 'm2-eks-pipeline',
  ...dims,
  ...metrics,
});

describe('emfMetrics', () => {
  it('reads each metric of an EMF line with its unit and dimensions', () => {
    // Act
    const metrics = emfMetrics(emfLine({ RolloutDuration: 4500 }, { outcome: 'rolled-back' }));

    // Assess
    expect(metrics).toEqual([
      {
        name: 'RolloutDuration',
        unit: 'Count',
        value: 4500,
        dimensions: { service: 'm2-eks-pipeline', outcome: 'rolled-back' },
      },
    ]);
  });

  it('sums a metric the line aggregates several values of', () => {
    // Act
    const [metric] = emfMetrics(emfLine({ VariantBytes: [100, 250] }));

    // Assess
    expect(metric?.value).toBe(350);
    expect(metric?.unit).toBe('Bytes');
  });

  it.each([
    [{ level: 'INFO', message: 'variants generated' }],
    [{ _aws: 'nope' }],
    [{ _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'X' }] }] } }],
    [{ _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'X' }] }] }, X: 'seven' }],
  ])('finds no metrics in %j', (line) => {
    // Act
    const metrics = emfMetrics(line);

    // Assess
    expect(metrics).toEqual([]);
  });
});

describe('MetricTally', () => {
  it('totals a metric from a mark on, optionally for one dimension value', () => {
    // Prepare
    const tally = new MetricTally();
    tally.onLogLine(emfLine({ VariantsGenerated: 21 }));
    const mark = tally.mark();
    tally.onLogLine({ level: 'INFO', message: 'not a metric' });
    tally.onLogLine(emfLine({ VariantsGenerated: 21 }));
    tally.onLogLine(emfLine({ ScaleEvents: 1 }, { direction: 'up' }));
    tally.onLogLine(emfLine({ ScaleEvents: 1 }, { direction: 'down' }));

    // Act / Assess
    expect(tally.total('VariantsGenerated')).toBe(42);
    expect(tally.total('VariantsGenerated', mark)).toBe(21);
    expect(tally.total('ScaleEvents', 0, { direction: 'up' })).toBe(1);
    expect(tally.values('ScaleEvents').map((m) => m.dimensions.direction)).toEqual(['up', 'down']);
  });
});
