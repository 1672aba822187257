import type { TopLevelSpec } from 'vega-lite';
import type { BurstDeliveries } from './burst/drain.ts';
import { formatWake, type ScalerWake } from './burst/model.ts';
import type { BurstSample } from './burst.ts';
import type { ImagesResult, VariantRow } from './images.ts';
import { type DemoLane, laneText } from './lane.ts';
import type { ReleaseTraffic } from './releaseTraffic.ts';
import { rolloutPlotSpec } from './rolloutPlot.ts';
import type { ReleaseRun } from './rollouts.ts';
import type { StorefrontResult } from './storefront.ts';

/** The part of the burst step's result the report shows (runBurst's BurstResult has at least this). */
export interface BurstFigures {
  readonly samples: readonly BurstSample[];
  /** The burst's queue, to tell its backlog from another queue's in the wake-up. */
  readonly queueUrl?: string;
  /** consumerScaler invocations, all by the schedule: when delivered, when the host started them. */
  readonly scalerCalls: readonly {
    readonly atS: number;
    readonly startedAtS: number;
    readonly error?: string | undefined;
  }[];
  /** How the scaler came to scale up (the schedule's event, the idle watch's read), from its logs. */
  readonly wake?: ScalerWake | undefined;
  readonly firstScaleUpS?: number | undefined;
  readonly peakReplicas: number;
  readonly drainedAtS?: number | undefined;
  readonly zeroAtS?: number | undefined;
  readonly totalS: number;
  readonly timedOut?: boolean;
  /** What the step changed or compressed for the demo (e.g. a shorter cooldown). */
  readonly notes?: readonly string[];
  /** Who drained the queue: the simulated consumer or the consumer pods. */
  readonly drainedBy?: string;
  /** The burst's messages as the consumer pods recorded them (real nodes only). */
  readonly deliveries?: BurstDeliveries | undefined;
}

export interface StepTiming {
  readonly step: string;
  readonly seconds: number;
  readonly note?: string;
}

/** Everything one demo run found out; the report and the summary table are made from this. */
export interface DemoData {
  readonly startedAt: Date;
  readonly wallS: number;
  readonly versions: Readonly<Record<string, string>>;
  /** Where the shop ran: KWOK status records or real pods (see lane.ts). */
  readonly lane: DemoLane;
  readonly environment: string;
  readonly steps: readonly StepTiming[];
  readonly images?: ImagesResult | undefined;
  readonly storefront?: StorefrontResult | undefined;
  readonly burst?: { readonly messages: number; readonly deployment: string; readonly result: BurstFigures };
  readonly releases: readonly ReleaseRun[];
}

export interface FormatTotal {
  readonly format: string;
  readonly count: number;
  readonly bytes: number;
  /** Relative to JPEG at the same sizes (negative = smaller); undefined for JPEG itself. */
  readonly vsJpeg: number | undefined;
}

const formatOrder = ['jpeg', 'webp', 'avif'];

/** Bytes per output format over the same originals × sizes, and each format's size relative to JPEG. */
export function formatTotals(variants: readonly VariantRow[]): FormatTotal[] {
  const by = new Map<string, { count: number; bytes: number }>();
  for (const v of variants) {
    const t = by.get(v.format) ?? { count: 0, bytes: 0 };
    by.set(v.format, { count: t.count + 1, bytes: t.bytes + v.bytes });
  }
  const jpeg = by.get('jpeg')?.bytes;
  return [...by.entries()]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([format, t]) => ({
      format,
      ...t,
      vsJpeg: format === 'jpeg' || jpeg === undefined || jpeg === 0 ? undefined : t.bytes / jpeg - 1,
    }));
}

/** Bytes a format saves against JPEG over the same variants (0 for JPEG itself). */
const savedVsJpeg = (f: FormatTotal): number =>
  f.vsJpeg === undefined ? 0 : Math.round(f.bytes / (1 + f.vsJpeg) - f.bytes);

const rank = (format: string): number => {
  const i = formatOrder.indexOf(format);
  return i === -1 ? formatOrder.length : i;
};

export const bytesText = (bytes: number): string =>
  bytes >= 1e6
    ? `${(bytes / 1e6).toFixed(1)} MB`
    : bytes >= 1e3
      ? `${(bytes / 1e3).toFixed(1)} KB`
      : `${bytes} B`;
const pct = (fraction: number): string => `${fraction > 0 ? '+' : ''}${(fraction * 100).toFixed(0)} %`;
const secs = (s: number | undefined): string => (s === undefined ? '—' : `${s.toFixed(1)} s`);
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0
    ? 0
    : sorted.length % 2
      ? (sorted[mid] ?? 0)
      : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/**
 * The one-line verdict of a release, e.g. "succeeded in 41 s; web available min 3/3; storefront 0 of
 * 2,400 requests failed (zero downtime)". Zero downtime is claimed only when capacity never dropped
 * and, where the storefront was under load, no request failed.
 */
export function releaseLine(r: ReleaseRun): string {
  const verdict = r.verdict ?? r.outcome;
  const jobs = r.jobIds.length > 1 ? `, ${r.jobIds.length} jobs (continuations)` : '';
  if (r.samples.length === 0) return `${verdict} in ${r.wallS.toFixed(0)} s${jobs}; no availability samples`;
  const capacityHeld = r.minAvailable >= r.desired;
  const capacity = `web available min ${r.minAvailable}/${r.desired}`;
  const t = r.traffic?.summary;
  const requests =
    t === undefined
      ? r.trafficError === undefined
        ? ''
        : '; storefront load failed to run'
      : `; storefront ${count(t.failed)} of ${count(t.requests)} requests failed`;
  const failedRequests = t !== undefined && t.failed > 0;
  const judgement =
    !capacityHeld && failedRequests
      ? ' (CAPACITY DROPPED, REQUESTS FAILED)'
      : !capacityHeld
        ? ' (CAPACITY DROPPED)'
        : failedRequests
          ? ' (REQUESTS FAILED)'
          : r.trafficError === undefined
            ? ' (zero downtime)'
            : '';
  return `${verdict} in ${r.wallS.toFixed(0)} s${jobs}; ${capacity}${requests}${judgement}`;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** e.g. "20 req/s through http://10.96.0.17:80: 2,400 sent, 2,398 served, 2 failed (502 ×1, ECONNRESET ×1), p50 12 ms, p99 80 ms". */
export function trafficLine(t: ReleaseTraffic): string {
  const s = t.summary;
  const failures = Object.entries(s.failures)
    .map(([why, n]) => `${why} ×${n}`)
    .join(', ');
  const ms = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(0)} ms`);
  const neither = [
    s.unfinished > 0 ? `${count(s.unfinished)} unfinished at the stop` : '',
    s.discarded > 0 ? `${count(s.discarded)} written after Connection: close (not counted)` : '',
  ].filter((p) => p !== '');
  return `${t.rate} req/s through ${t.target}: ${count(s.requests)} sent, ${count(s.served)} served, ${count(s.failed)} failed${failures === '' ? '' : ` (${failures})`}${neither.length > 0 ? `, ${neither.join(', ')}` : ''}; p50 ${ms(s.p50Ms)}, p99 ${ms(s.p99Ms)}${t.endedBy === 'time limit' ? '; the load hit its time limit before the tail ended' : ''}`;
}

/** Rows of the summary table: [step, what happened]. */
export function summaryRows(data: DemoData): [string, string][] {
  const rows: [string, string][] = [
    ['lane', laneText(data.lane)],
    ['environment', data.environment],
  ];
  const images = data.images;
  if (images !== undefined) {
    const originalBytes = images.originals.reduce((s, o) => s + o.bytes, 0);
    const variantBytes = images.variants.reduce((s, v) => s + v.bytes, 0);
    rows.push([
      'images',
      `${images.originals.length} originals (${bytesText(originalBytes)}) → ${images.metrics.generated} variants (${bytesText(variantBytes)}); median ${(median(images.originals.map((o) => o.durationMs)) / 1000).toFixed(1)} s per original${images.failures.length > 0 ? `; ${images.failures.length} FAILED` : ''}`,
    ]);
    const formats = formatTotals(images.variants)
      .map(
        (f) =>
          `${f.format} ${bytesText(f.bytes)}${f.vsJpeg === undefined ? '' : ` (${pct(f.vsJpeg)} vs JPEG, ${bytesText(savedVsJpeg(f))} saved)`}`,
      )
      .join(', ');
    if (formats !== '') rows.push(['image formats', formats]);
  }
  for (const f of data.storefront?.fetches ?? []) {
    rows.push([
      'storefront URL',
      `${f.emitter}: ${f.status} ${f.width ?? '?'}×${f.height ?? '?'} ${f.contentType}${f.pregenerated ? ' (pre-generated)' : ''} — ${f.url}`,
    ]);
  }
  if (data.burst !== undefined) {
    const b = data.burst.result;
    rows.push([
      'queue burst',
      `${data.burst.messages} messages on ${data.burst.deployment}'s queue: first scale-up ${secs(b.firstScaleUpS)}, peak ${b.peakReplicas} replicas, drained ${secs(b.drainedAtS)}, back to zero ${secs(b.zeroAtS)}; woken: ${wakeText(b)}; ${scalerCallsText(b)}${b.deliveries === undefined ? '' : `; the consumer pods recorded ${count(b.deliveries.processed)} processed, ${count(b.deliveries.redelivered)} redelivered, ${count(b.deliveries.missing)} missing`}${b.timedOut ? ' — TIMED OUT' : ''}`,
    ]);
  }
  for (const r of data.releases) {
    rows.push([`rollout ${r.label}`, `${r.imageTag}: ${releaseLine(r)}`]);
    if (r.traffic !== undefined) rows.push(['  storefront load', trafficLine(r.traffic)]);
    if (r.trafficError !== undefined)
      rows.push(['  storefront load', `FAILED TO RUN: ${oneLine(r.trafficError, 300)}`]);
    const failure = r.report?.body.failureDetails;
    if (failure !== undefined)
      rows.push(['  CodePipeline was told', `${failure.type}: ${oneLine(failure.message, 400)}`]);
  }
  rows.push(['total wall time', `${data.wallS.toFixed(0)} s`]);
  return rows;
}

/** e.g. "schedule at -20 s; idle watch saw the backlog at 2.4 s (read 8 of its watch); 0 → 10 at 2.9 s". */
const wakeText = (b: BurstFigures): string => formatWake(b.wake, b.queueUrl);

/**
 * e.g. "7 scheduled consumerScaler invocations, 1 started after the previous one ended (up to 1.2 s
 * late), 1 failed": the demo's host runs one at a time, so an event delivered while one runs waits.
 */
export function scalerCallsText(b: BurstFigures): string {
  const n = b.scalerCalls.length;
  const errors = b.scalerCalls.filter((c) => c.error !== undefined).length;
  // IPC to the host takes milliseconds: half a second later is a wait for the previous invocation.
  const late = b.scalerCalls.map((c) => c.startedAtS - c.atS).filter((d) => d >= 0.5);
  const lateText =
    late.length === 0
      ? ''
      : `, ${late.length} started after the previous one ended (up to ${Math.max(...late).toFixed(1)} s late)`;
  return `${n} scheduled consumerScaler invocation${n === 1 ? '' : 's'}${lateText}${errors > 0 ? `, ${errors} failed` : ''}`;
}

const oneLine = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** A plain-text table (two columns, the first padded), for the terminal and CI logs. */
export function textTable(rows: readonly (readonly [string, string])[], width = 110): string {
  const keyWidth = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(20, width - keyWidth - 3);
  const lines: string[] = [];
  for (const [key, value] of rows) {
    const wrapped = wrap(value, valueWidth);
    wrapped.forEach((part, i) => {
      lines.push(`${(i === 0 ? key : '').padEnd(keyWidth)} │ ${part}`);
    });
  }
  const rule = `${'─'.repeat(keyWidth)}─┼─${'─'.repeat(Math.min(valueWidth, Math.max(...lines.map((l) => l.length)) - keyWidth - 3))}`;
  return [lines[0], rule, ...lines.slice(1)].join('\n');
}

function wrap(text: string, width: number): string[] {
  const words = text.split(' ');
  const out: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  out.push(line);
  return out;
}

/** The three plots of the report, as vega-lite specs. */
export function plotSpecs(data: DemoData): {
  queue: TopLevelSpec;
  rollouts: TopLevelSpec;
  images: TopLevelSpec;
} {
  const samples = data.burst?.result.samples ?? [];
  const queueValues = samples.flatMap((s) => [
    { atS: s.atS, series: 'messages visible', value: s.visible },
    { atS: s.atS, series: 'messages in flight', value: s.inFlight },
  ]);
  const replicaValues = samples.flatMap((s) => [
    { atS: s.atS, series: 'replicas (spec)', value: s.specReplicas },
    { atS: s.atS, series: 'replicas (Ready)', value: s.readyReplicas },
  ]);
  const queue: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Queue burst: depth vs consumer replicas (${data.burst?.deployment ?? 'no burst'})`,
    width: 640,
    height: 280,
    layer: [
      {
        data: { values: queueValues },
        mark: { type: 'line', interpolate: 'monotone' },
        encoding: {
          x: { field: 'atS', type: 'quantitative', title: 'seconds since the burst' },
          y: { field: 'value', type: 'quantitative', title: 'messages' },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        data: { values: replicaValues },
        mark: { type: 'line', interpolate: 'step-after', strokeDash: [4, 2] },
        encoding: {
          x: { field: 'atS', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative', title: 'replicas' },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };

  const rollouts = rolloutPlotSpec(data.releases);

  const sizeOrder = [
    ...new Map((data.images?.variants ?? []).map((v) => [v.preset, v.width * v.height])).entries(),
  ]
    .sort(([, a], [, b]) => a - b)
    .map(([preset]) => preset);
  const images: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Image variants: mean size per format at each storefront size',
    width: 640,
    height: 260,
    data: { values: (data.images?.variants ?? []).map((v) => ({ ...v, kb: v.bytes / 1000 })) },
    mark: 'bar',
    encoding: {
      x: {
        field: 'preset',
        type: 'nominal',
        sort: sizeOrder,
        title: 'storefront size (Luma preset)',
        axis: { labelAngle: 0 },
      },
      xOffset: { field: 'format', type: 'nominal', sort: formatOrder },
      y: { aggregate: 'mean', field: 'kb', type: 'quantitative', title: 'mean KB per variant' },
      color: { field: 'format', type: 'nominal', sort: formatOrder },
    },
  };
  return { queue, rollouts, images };
}

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
  `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/** The SVGs of {@link plotSpecs}, rendered. */
export interface ReportPlots {
  readonly queue: string;
  readonly rollouts: string;
  readonly images: string;
}

const storefrontBaselineText = 'a few seconds';

/** The load's figures and its failed requests (the first 50), so each red point on the plot has its request. */
function trafficHtml(t: ReleaseTraffic): string {
  const shown = t.failedRequests.slice(0, 50);
  const outcome = (r: ReleaseTraffic['failedRequests'][number]) =>
    r.outcome.kind === 'response'
      ? String(r.outcome.status)
      : r.outcome.kind === 'error'
        ? r.outcome.reason
        : r.outcome.kind;
  return `<p>Storefront load: ${escapeHtml(trafficLine(t))}.</p>${
    shown.length === 0
      ? ''
      : `<p>Failed requests${t.failedRequests.length > shown.length ? ` (first ${shown.length} of ${t.failedRequests.length})` : ''}:</p>${table(
          ['sent at (s)', 'path', 'outcome', 'after (ms)'],
          shown.map((r) => [
            (r.startMs / 1000).toFixed(2),
            r.path,
            outcome(r),
            (r.endMs - r.startMs).toFixed(0),
          ]),
        )}`
  }`;
}

/** out/report.html: one self-contained page (inline SVG plots, no external assets). */
export function renderReportHtml(data: DemoData, plots: ReportPlots): string {
  const sections: string[] = [];
  sections.push(`<h2>Summary</h2>${table(['step', 'result'], summaryRows(data))}`);
  sections.push(
    `<h2>Step timings</h2>${table(
      ['step', 'seconds', 'note'],
      data.steps.map((s) => [s.step, s.seconds.toFixed(1), s.note ?? '']),
    )}`,
  );

  const images = data.images;
  sections.push('<h2>Product images → imageVariants</h2>');
  if (images !== undefined) {
    sections.push(
      `<p>Each photograph was uploaded as an original to the media bucket and S3's ObjectCreated notification delivered to imageVariants (moto does not invoke Lambda, so the demo plays S3's part). The function's own EMF metrics: VariantsGenerated ${images.metrics.generated}, VariantBytes ${escapeHtml(bytesText(images.metrics.variantBytes))}, OriginalBytes ${escapeHtml(bytesText(images.metrics.originalBytes))}.</p>`,
      table(
        ['format', 'variants', 'bytes', 'vs JPEG at the same sizes', 'saved vs JPEG'],
        formatTotals(images.variants).map((f) => [
          f.format,
          String(f.count),
          bytesText(f.bytes),
          f.vsJpeg === undefined ? '—' : pct(f.vsJpeg),
          f.vsJpeg === undefined ? '—' : bytesText(savedVsJpeg(f)),
        ]),
      ),
      plots.images,
      table(
        ['original', 'megapixels', 'bytes', 'variants', 'variant bytes', 'time'],
        images.originals.map((o) => {
          const mine = images.variants.filter((v) => v.original === o.name);
          return [
            o.name,
            o.megapixels.toFixed(1),
            bytesText(o.bytes),
            o.status === 'generated' ? String(mine.length) : o.status,
            bytesText(mine.reduce((s, v) => s + v.bytes, 0)),
            `${(o.durationMs / 1000).toFixed(2)} s`,
          ];
        }),
      ),
    );
  } else sections.push('<p>Not run.</p>');

  sections.push('<h2>Storefront URLs → imageServe</h2>');
  const storefront = data.storefront;
  if (storefront !== undefined) {
    sections.push(
      `<p>One original, uploaded where Magento's remote storage writes it (<code>${escapeHtml(storefront.originalKey)}</code>), fetched through the URLs the storefront emits for it, each twice (first visitor, next visitor), with Chrome's Accept or one without AVIF/WebP. "Pre-generated": the first request was already answered from the variant imageVariants made at upload.</p>`,
      table(
        [
          'emitter',
          'URL',
          'Accept',
          'status',
          'type',
          'size',
          'bytes',
          'first / second',
          'server-timing (first)',
        ],
        storefront.fetches.map((f) => [
          f.emitter,
          f.url,
          f.accept,
          String(f.status),
          f.contentType,
          `${f.width ?? '?'}×${f.height ?? '?'}${f.pregenerated ? ' (pre-generated)' : ''}`,
          bytesText(f.bytes),
          `${f.firstMs.toFixed(0)} / ${f.secondMs.toFixed(0)} ms`,
          f.firstTiming,
        ]),
      ),
    );
  } else sections.push('<p>Not run.</p>');

  sections.push('<h2>Queue burst → consumerScaler</h2>');
  if (data.burst !== undefined) {
    const b = data.burst.result;
    sections.push(
      `<p>${data.burst.messages} messages on the queue of <code>${escapeHtml(data.burst.deployment)}</code>, drained by ${escapeHtml(b.drainedBy ?? 'a simulated consumer at a rate proportional to the Ready pods')}, while consumerScaler (as its own IAM role, through the EKS auth webhook) scales the Deployment.</p>`,
      b.deliveries === undefined
        ? ''
        : `<p>What the consumer pods recorded (the stand-in's m2_consumed_message):</p>${table(
            ['sent', 'processed', 'redelivered', 'missing', 'pods that processed'],
            [
              [
                count(b.deliveries.sent),
                count(b.deliveries.processed),
                count(b.deliveries.redelivered),
                count(b.deliveries.missing),
                String(b.deliveries.pods),
              ],
            ],
          )}`,
      table(
        [
          'first scale-up',
          'peak replicas',
          'queue drained',
          'back to zero',
          'consumerScaler woken',
          'scaler invocations',
          'duration',
        ],
        [
          [
            secs(b.firstScaleUpS),
            String(b.peakReplicas),
            secs(b.drainedAtS),
            secs(b.zeroAtS),
            wakeText(b),
            scalerCallsText(b),
            `${secs(b.totalS)}${b.timedOut ? ' (timed out)' : ''}`,
          ],
        ],
      ),
      (b.notes ?? []).length === 0
        ? ''
        : `<ul>${(b.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
    );
  } else sections.push('<p>Not run.</p>');
  sections.push(plots.queue);

  sections.push('<h2>Rollouts → rollout</h2>');
  sections.push(
    data.lane === 'real-nodes'
      ? `<p>The web pods are processes on the real nodes. During each release a bounded load generator (autocannon, bench:traffic's) sends storefront requests — home, category, product, PWA Studio's GraphQL GET — through the m2-http Service (kube-proxy), from ${storefrontBaselineText} before the first CodePipeline job to a tail after the verdict, and records every request. A failed request is a 4xx/5xx answer or none at all (timeout, refused, reset); it is plotted in red.</p>`
      : '<p>KWOK lane: no container runs, so no storefront request can be served; capacity is what the Deployment status reports. Run the demo with <code>M2_REAL_NODES=1</code> (after <code>M2_REAL_NODES=1 npm run local:up</code>) for the same releases on real pods under storefront load.</p>',
  );
  for (const r of data.releases) {
    const failure = r.report?.body.failureDetails;
    const summary = r.report?.body.executionDetails?.summary;
    sections.push(
      `<h3>${escapeHtml(r.label)}: <code>${escapeHtml(r.imageTag)}</code></h3><p>${escapeHtml(releaseLine(r))}. CodePipeline job(s): ${r.jobIds.map((j) => `<code>${escapeHtml(j)}</code>`).join(', ')}; ${escapeHtml(r.report?.operation ?? 'nothing reported')}.</p>`,
      summary === undefined ? '' : `<p>Execution summary: ${escapeHtml(summary)}</p>`,
      r.report?.body.outputVariables === undefined
        ? ''
        : `<p>Output variables:</p>${table(['name', 'value'], Object.entries(r.report.body.outputVariables))}`,
      failure === undefined
        ? ''
        : `<p>Failure report CodePipeline received (<code>${escapeHtml(failure.type)}</code>):</p><pre>${escapeHtml(failure.message)}</pre>`,
      r.error === undefined ? '' : `<p>Function error: <code>${escapeHtml(r.error)}</code></p>`,
      r.traffic === undefined ? '' : trafficHtml(r.traffic),
      r.trafficError === undefined
        ? ''
        : `<p>The storefront load failed to run: <code>${escapeHtml(r.trafficError)}</code></p>`,
    );
  }
  if (data.releases.length === 0) sections.push('<p>Not run.</p>');
  sections.push(plots.rollouts);

  const versions = Object.entries(data.versions)
    .map(([k, v]) => `${escapeHtml(k)} ${escapeHtml(v)}`)
    .join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>m2-eks-pipeline demo — ${escapeHtml(data.startedAt.toISOString())}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}pre{background:#f7f7f7;padding:.8em;white-space:pre-wrap}svg{max-width:100%;height:auto;display:block;margin:1em 0}
.meta{color:#666}
</style></head><body>
<h1>m2-eks-pipeline demo</h1>
<p class="meta">${escapeHtml(data.startedAt.toISOString())} · ${data.wallS.toFixed(0)} s · ${escapeHtml(data.environment)}<br>${versions}</p>
<p><strong>Lane:</strong> ${escapeHtml(laneText(data.lane))}</p>
${sections.join('\n')}
</body></html>
`;
}
