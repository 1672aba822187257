import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPlots } from '../../../scripts/demo/plots.ts';
import {
  formatTotals,
  plotSpecs,
  releaseLine,
  renderReportHtml,
  summaryRows,
  textTable,
} from '../../../scripts/demo/report.ts';
import { rolloutPlotSpec } from '../../../scripts/demo/rolloutPlot.ts';
import { sampleDemoData, sampleImages, sampleReleases, sampleTraffic } from './demoData.ts';

/** The sample run on real nodes: the good release under storefront load with two failed requests. */
function realNodeData() {
  const [good, broken] = sampleReleases();
  if (good === undefined || broken === undefined) throw new Error('sample releases');
  return {
    ...sampleDemoData(),
    lane: 'real-nodes' as const,
    releases: [{ ...good, traffic: sampleTraffic() }, broken],
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('formatTotals', () => {
  it('sums bytes per format, JPEG first, and compares each format with JPEG at the same sizes', () => {
    // Act
    const totals = formatTotals(sampleImages().variants);

    // Assess
    expect(totals.map((t) => t.format)).toEqual(['jpeg', 'webp', 'avif']);
    expect(totals[0]).toEqual({ format: 'jpeg', count: 4, bytes: 22_000, vsJpeg: undefined });
    expect(totals[1]?.vsJpeg).toBeCloseTo(-0.4);
    expect(totals[2]?.vsJpeg).toBeCloseTo(-0.6);
  });

  it('has no comparison when no JPEG was made', () => {
    // Act
    const totals = formatTotals([
      { original: 'a', preset: 'p', width: 1, height: 1, format: 'webp', bytes: 5 },
    ]);

    // Assess
    expect(totals).toEqual([{ format: 'webp', count: 1, bytes: 5, vsJpeg: undefined }]);
  });
});

describe('releaseLine', () => {
  it('says zero downtime when available never fell below the desired replicas', () => {
    // Act
    const line = releaseLine(sampleReleases()[0] ?? expect.unreachable());

    // Assess
    expect(line).toBe('succeeded in 45 s; web available min 3/3 (zero downtime)');
  });

  it('says so when capacity dropped, and counts continuation jobs', () => {
    // Prepare
    const release = { ...(sampleReleases()[1] ?? expect.unreachable()), minAvailable: 2 };

    // Act
    const line = releaseLine(release);

    // Assess
    expect(line).toBe('rolled-back in 3 s, 2 jobs (continuations); web available min 2/3 (CAPACITY DROPPED)');
  });

  it('does not claim zero downtime when storefront requests failed although capacity held', () => {
    // Prepare
    const release = { ...(sampleReleases()[0] ?? expect.unreachable()), traffic: sampleTraffic() };

    // Act
    const line = releaseLine(release);

    // Assess
    expect(line).toBe(
      'succeeded in 45 s; web available min 3/3; storefront 2 of 100 requests failed (REQUESTS FAILED)',
    );
  });

  it('says zero downtime under load only when no request failed', () => {
    // Prepare
    const traffic = sampleTraffic();
    const clean = { ...traffic, summary: { ...traffic.summary, served: 100, failed: 0, failures: {} } };
    const release = { ...(sampleReleases()[0] ?? expect.unreachable()), traffic: clean };

    // Act
    const line = releaseLine(release);

    // Assess
    expect(line).toBe(
      'succeeded in 45 s; web available min 3/3; storefront 0 of 100 requests failed (zero downtime)',
    );
  });

  it('claims nothing when the load was asked for and failed to run', () => {
    // Prepare
    const release = {
      ...(sampleReleases()[0] ?? expect.unreachable()),
      trafficError: 'connect EHOSTUNREACH',
    };

    // Act
    const line = releaseLine(release);

    // Assess
    expect(line).toBe('succeeded in 45 s; web available min 3/3; storefront load failed to run');
  });
});

describe('rolloutPlotSpec', () => {
  it('puts requests sent and failed per second under the replicas of a release that ran under load', () => {
    // Act
    const spec = rolloutPlotSpec(realNodeData().releases);

    // Assess
    const json = JSON.stringify(spec);
    expect(json).toContain('new image (2.4.8): succeeded — storefront 100 requests, 2 failed');
    expect(json).toContain('Rollouts: m2-http replicas and storefront requests during each release');
    const values = [...json.matchAll(/\{"atS":(-?[\d.]+),"series":"failed requests\/s","value":(\d+)\}/g)];
    expect(values.map((m) => [Number(m[1]), Number(m[2])])).toEqual([
      [-2, 0],
      [-1, 0],
      [0, 0],
      [1, 2],
      [2, 0],
    ]);
    // The broken release had no load: its block has the replicas chart only.
    expect(json.match(/"requests sent\/s","value"/g)).toHaveLength(5);
  });

  it('says there was no storefront load on KWOK', () => {
    // Act
    const spec = rolloutPlotSpec(sampleReleases());

    // Assess
    expect(spec.title).toBe(
      'Rollouts: m2-http replicas during each release (desired 3; no storefront load on KWOK)',
    );
  });
});

describe('summaryRows and textTable', () => {
  it('give one row per step with its figures and the failure report CodePipeline received', () => {
    // Act
    const rows = summaryRows(sampleDemoData());

    // Assess
    expect(rows.map(([step]) => step)).toEqual([
      'lane',
      'environment',
      'images',
      'image formats',
      'queue burst',
      'rollout new image',
      'rollout broken image',
      '  CodePipeline was told',
      'total wall time',
    ]);
    const text = Object.fromEntries(rows);
    expect(text.images).toBe('2 originals (3.0 MB) → 12 variants (44.0 KB); median 1.3 s per original');
    expect(text['image formats']).toBe(
      'jpeg 22.0 KB, webp 13.2 KB (-40 % vs JPEG, 8.8 KB saved), avif 8.8 KB (-60 % vs JPEG, 13.2 KB saved)',
    );
    expect(text['queue burst']).toContain('peak 10 replicas, drained 3.5 s, back to zero 4.0 s');
    expect(text['queue burst']).toContain(
      'woken: schedule at -20 s; idle watch saw the backlog at 0.6 s (read 7 of its watch); 0 → 10 at 0.9 s',
    );
    expect(text['queue burst']).toContain(
      '3 scheduled consumerScaler invocations, 1 started after the previous one ended (up to 1.5 s late), 1 failed',
    );
    expect(text['  CodePipeline was told']).toMatch(/^JobFailed: pod m2-http-abc CrashLoopBackOff/);
    expect(text['total wall time']).toBe('182 s');
  });

  it('leaves out the steps that did not run', () => {
    // Act
    const rows = summaryRows({ ...sampleDemoData(), images: undefined, releases: [] });

    // Assess
    expect(rows.map(([step]) => step)).toEqual(['lane', 'environment', 'queue burst', 'total wall time']);
  });

  it('aligns the second column and wraps long values under it', () => {
    // Act
    const table = textTable(
      [
        ['step', 'result'],
        ['a longer step', 'word '.repeat(20).trim()],
      ],
      40,
    );

    // Assess
    const lines = table.split('\n');
    expect(lines[0]).toBe('step          │ result');
    expect(lines[1]).toMatch(/^─{14}┼─+$/);
    expect(lines.slice(2).every((l) => l.indexOf('│') === 14)).toBe(true);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((l) => l.length <= 40)).toBe(true);
  });
});

describe('plotSpecs', () => {
  it('plots queue depth with spec and Ready replicas, each release’s replicas, and sizes per format', () => {
    // Act
    const specs = plotSpecs(sampleDemoData());

    // Assess
    const json = JSON.stringify(specs);
    expect(Object.keys(specs)).toEqual(['queue', 'rollouts', 'images']);
    for (const series of ['messages visible', 'replicas (spec)', 'replicas (Ready)', 'available'])
      expect(json).toContain(series);
    expect(JSON.stringify(specs.rollouts)).toContain('new image (2.4.8): succeeded');
    expect(JSON.stringify(specs.rollouts)).toContain('broken image (2.4.8-crashloop): rolled-back');
    expect(JSON.stringify(specs.images)).toContain('"xOffset"');
  });
});

describe('renderReportHtml', () => {
  it('is one self-contained page with the three plots, the summary and the failure report', async () => {
    // Prepare
    const data = sampleDemoData();
    const dir = mkdtempSync(join(tmpdir(), 'm2-demo-report-'));
    dirs.push(dir);
    const plots = await renderPlots(data, dir);

    // Act
    const html = renderReportHtml(data, plots);

    // Assess
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).toContain('Queue burst: depth vs consumer replicas');
    expect(html).toContain('Rollouts: m2-http replicas during each release');
    expect(html).toContain('Image variants: mean size per format');
    expect(html).toContain('<h2>Summary</h2>');
    expect(html).toContain('2026-11-28T09:00:00.000Z');
    expect(html).toContain('v20.20.2');
    // The failure message is escaped, not interpreted.
    expect(html).toContain('CrashLoopBackOff &lt;container nginx&gt;');
    expect(html).not.toMatch(/<(script|link)\b|src="http/);
    expect(html).toContain('<strong>Lane:</strong> KWOK nodes');
  });

  it('on real nodes, lists the failed storefront requests and plots them', async () => {
    // Prepare
    const data = realNodeData();
    const dir = mkdtempSync(join(tmpdir(), 'm2-demo-report-'));
    dirs.push(dir);
    const plots = await renderPlots(data, dir);

    // Act
    const html = renderReportHtml(data, plots);

    // Assess
    expect(html).toContain('<strong>Lane:</strong> real nodes (M2_REAL_NODES=1)');
    expect(html).toContain(
      'Storefront load: 20 req/s through http://10.96.0.17:80: 100 sent, 98 served, 2 failed (502 ×1, ECONNRESET ×1); p50 12 ms, p99 80 ms.',
    );
    expect(html).toContain('<td>1.25</td><td>/gear.html</td><td>ECONNRESET</td><td>50</td>');
    expect(plots.rollouts).toContain('failed requests/s');
    expect(Object.fromEntries(summaryRows(data))['  storefront load']).toMatch(
      /2 failed \(502 ×1, ECONNRESET ×1\)/,
    );
  });
});
