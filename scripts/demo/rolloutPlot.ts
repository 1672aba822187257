import type { TopLevelSpec } from 'vega-lite';
import type { ReleaseRun } from './rollouts.ts';

const replicaSeries = ['available', 'pods of the new template', 'all pods (incl. surge)'];
const trafficSeries = ['requests sent/s', 'failed requests/s'];
const schema = 'https://vega.github.io/schema/vega-lite/v6.json';
const independentSeries = {
  scale: { color: 'independent', strokeDash: 'independent' },
  legend: { color: 'independent', strokeDash: 'independent' },
} as const;

/** e.g. "new image (2.4.8): succeeded — storefront 2,400 requests, 0 failed". */
export function releasePlotTitle(r: ReleaseRun): string {
  const verdict = `${r.label} (${r.imageTag}): ${r.verdict ?? r.outcome}`;
  const t = r.traffic?.summary;
  if (t !== undefined)
    return `${verdict} — storefront ${t.requests.toLocaleString('en-US')} requests, ${t.failed.toLocaleString('en-US')} failed`;
  return r.trafficError === undefined ? verdict : `${verdict} — storefront load failed to run`;
}

/** The seconds a release's block spans: its samples and its load, from the baseline to the tail. */
function xDomain(r: ReleaseRun): [number, number] {
  const xs = [
    0,
    r.wallS,
    ...r.samples.map((s) => s.atS),
    ...(r.traffic?.seconds ?? []).map((s) => s.atS + 1),
  ];
  return [Math.floor(Math.min(...xs)), Math.ceil(Math.max(...xs))];
}

/** Gray rules where the first job started (0 s) and where the release returned its verdict. */
const eventRules = (r: ReleaseRun) => ({
  data: {
    values: [
      { atS: 0, event: 'first job' },
      { atS: Math.round(r.wallS * 10) / 10, event: 'verdict' },
    ],
  },
  mark: { type: 'rule' as const, color: 'gray', strokeDash: [2, 2] },
  encoding: { x: { field: 'atS', type: 'quantitative' as const } },
});

function replicasChart(r: ReleaseRun, desired: number, domain: [number, number], withAxisTitle: boolean) {
  const values = r.samples.flatMap((s) => [
    { atS: s.atS, series: 'available', value: s.available },
    { atS: s.atS, series: 'pods of the new template', value: s.updated },
    { atS: s.atS, series: 'all pods (incl. surge)', value: s.total },
  ]);
  const x = {
    field: 'atS',
    type: 'quantitative' as const,
    title: withAxisTitle ? 's since the first CodePipeline job' : null,
    scale: { domain },
  };
  return {
    width: 640,
    height: 130,
    layer: [
      {
        data: { values },
        mark: { type: 'line' as const, interpolate: 'step-after' as const },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative' as const, title: 'replicas', scale: { zero: true } },
          color: {
            field: 'series',
            type: 'nominal' as const,
            title: null,
            scale: { domain: replicaSeries, range: ['#54a24b', '#4c78a8', '#bab0ac'] },
            legend: { orient: 'top' as const, labelLimit: 300 },
          },
          strokeDash: {
            field: 'series',
            type: 'nominal' as const,
            sort: replicaSeries,
            legend: { orient: 'top' as const, labelLimit: 300 },
          },
        },
      },
      {
        mark: { type: 'rule' as const, strokeDash: [2, 2], color: '#54a24b' },
        encoding: { y: { datum: desired } },
      },
      eventRules(r),
    ],
  };
}

/** Requests sent and failed per second (by send time): a failed request is a red point above zero. */
function trafficChart(r: ReleaseRun, domain: [number, number]) {
  const values = (r.traffic?.seconds ?? []).flatMap((s) => [
    { atS: s.atS, series: 'requests sent/s', value: s.sent },
    { atS: s.atS, series: 'failed requests/s', value: s.failed },
  ]);
  return {
    width: 640,
    height: 110,
    layer: [
      {
        data: { values },
        mark: { type: 'line' as const, interpolate: 'step-after' as const, point: { size: 12 } },
        encoding: {
          x: {
            field: 'atS',
            type: 'quantitative' as const,
            title: 's since the first CodePipeline job',
            scale: { domain },
          },
          y: { field: 'value', type: 'quantitative' as const, title: 'requests/s', scale: { zero: true } },
          color: {
            field: 'series',
            type: 'nominal' as const,
            title: null,
            scale: { domain: trafficSeries, range: ['#4c78a8', '#e45756'] },
            legend: { orient: 'top' as const, labelLimit: 300 },
          },
        },
      },
      eventRules(r),
    ],
  };
}

/**
 * The rollout plot: one block per release, m2-http's replicas (available, new template, all) and —
 * where the storefront was under load (real nodes) — requests sent and failed per second below them,
 * on the same seconds axis (0 = the release's first CodePipeline job).
 */
export function rolloutPlotSpec(releases: readonly ReleaseRun[]): TopLevelSpec {
  const desired = Math.max(0, ...releases.map((r) => r.desired));
  const loaded = releases.some((r) => r.traffic !== undefined);
  const blocks = releases.map((r) => {
    const domain = xDomain(r);
    const charts =
      r.traffic === undefined
        ? [replicasChart(r, desired, domain, true)]
        : [replicasChart(r, desired, domain, false), trafficChart(r, domain)];
    return {
      title: { text: releasePlotTitle(r), anchor: 'start' as const, fontSize: 12 },
      vconcat: charts,
      // Replicas and requests are different series: each chart its own colours and legend.
      resolve: independentSeries,
    };
  });
  return {
    $schema: schema,
    title: loaded
      ? `Rollouts: m2-http replicas and storefront requests during each release (desired ${desired})`
      : `Rollouts: m2-http replicas during each release (desired ${desired}; no storefront load on KWOK)`,
    vconcat: blocks.length > 0 ? blocks : [{ data: { values: [] }, mark: 'point' }],
    resolve: independentSeries,
  };
}
