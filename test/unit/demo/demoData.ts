import type { ImagesResult } from '../../../scripts/demo/images.ts';
import type { ReleaseTraffic } from '../../../scripts/demo/releaseTraffic.ts';
import type { DemoData } from '../../../scripts/demo/report.ts';
import type { AvailabilitySample, ReleaseRun } from '../../../scripts/demo/rollouts.ts';

/** A small but complete demo run, as the steps would report it. */
export function sampleImages(): ImagesResult {
  const presets = [
    ['thumbnail', 75, 75],
    ['product', 700, 560],
  ] as const;
  const sizes: Record<string, number> = { jpeg: 10_000, webp: 6_000, avif: 4_000 };
  const originals = ['aqua.jpg', 'dune.jpg'];
  return {
    originals: originals.map((name, i) => ({
      name,
      key: `catalog/product/${name[0]}/${name[1]}/${name}`,
      megapixels: 4 + i,
      bytes: 1_000_000 * (i + 1),
      durationMs: 1000 + 500 * i,
      status: 'generated',
    })),
    variants: originals.flatMap((original) =>
      presets.flatMap(([preset, width, height]) =>
        Object.entries(sizes).map(([format, bytes]) => ({
          original,
          preset,
          width,
          height,
          format,
          bytes: preset === 'thumbnail' ? bytes / 10 : bytes,
        })),
      ),
    ),
    metrics: { generated: 12, variantBytes: 44_000, originalBytes: 3_000_000 },
    failures: [],
  };
}

const samples = (available: number[]): AvailabilitySample[] =>
  available.map((a, i) => ({
    atS: i * 0.5,
    available: a,
    desired: 3,
    updated: Math.min(3, i),
    total: i % 2 ? 4 : 3,
  }));

export function sampleReleases(): ReleaseRun[] {
  return [
    {
      label: 'new image',
      imageTag: '2.4.8',
      jobIds: ['11111111-0000-0000-0000-000000000001'],
      outcome: 'succeeded',
      verdict: 'succeeded',
      rolloutMs: 45_000,
      wallS: 45.2,
      samples: samples([3, 3, 3, 3, 3, 3]),
      desired: 3,
      minAvailable: 3,
      report: {
        jobId: '11111111-0000-0000-0000-000000000001',
        operation: 'PutJobSuccessResult',
        body: { executionDetails: { summary: 'example-shop now runs magento:2.4.8' } },
      },
    },
    {
      label: 'broken image',
      imageTag: '2.4.8-crashloop',
      jobIds: ['11111111-0000-0000-0000-000000000002', '11111111-0000-0000-0000-000000000003'],
      outcome: 'failed',
      verdict: 'rolled-back',
      rolloutMs: 2_900,
      wallS: 3.1,
      samples: samples([3, 3, 3, 3]),
      desired: 3,
      minAvailable: 3,
      report: {
        jobId: '11111111-0000-0000-0000-000000000003',
        operation: 'PutJobFailureResult',
        body: {
          failureDetails: {
            type: 'JobFailed',
            message:
              'pod m2-http-abc CrashLoopBackOff <container nginx>. Rolled back to the recorded templates.',
          },
        },
      },
    },
  ];
}

/**
 * Storefront load around a release on real nodes: 20 req/s from 2 s before the first job to 3 s after,
 * two requests failing in second 1 (a 502 and a reset connection).
 */
export function sampleTraffic(): ReleaseTraffic {
  const seconds = [-2, -1, 0, 1, 2].map((atS) => ({
    atS,
    sent: 20,
    served: atS === 1 ? 18 : 20,
    failed: atS === 1 ? 2 : 0,
  }));
  return {
    target: 'http://10.96.0.17:80',
    rate: 20,
    endedBy: 'stopped',
    summary: {
      requests: 100,
      served: 98,
      failed: 2,
      unfinished: 0,
      discarded: 0,
      failures: { '502': 1, ECONNRESET: 1 },
      p50Ms: 12,
      p99Ms: 80,
      firstFailureMs: 1200,
      lastFailureMs: 1300,
    },
    seconds,
    failedRequests: [
      { path: '/', startMs: 1200, endMs: 1210, outcome: { kind: 'response', status: 502 } },
      { path: '/gear.html', startMs: 1250, endMs: 1300, outcome: { kind: 'error', reason: 'ECONNRESET' } },
    ],
  };
}

export function sampleDemoData(): DemoData {
  return {
    startedAt: new Date('2026-11-28T09:00:00Z'),
    wallS: 182,
    versions: { commit: 'abc1234', node: 'v20.20.2' },
    lane: 'kwok',
    environment: 'embedded environment started in /tmp/demo-env (16.5 s), stopped afterwards',
    steps: [
      { step: 'environment up', seconds: 16.5 },
      { step: 'images', seconds: 6.8 },
    ],
    images: sampleImages(),
    burst: {
      messages: 1000,
      deployment: 'm2-consumer-product-updates',
      result: {
        samples: [0, 1, 2, 3, 4].map((i) => ({
          atS: i,
          visible: 1000 - 250 * i,
          inFlight: i === 0 ? 0 : 40,
          specReplicas: i === 0 ? 0 : i === 4 ? 0 : 10,
          readyReplicas: i < 2 ? 0 : i === 4 ? 0 : 10,
          consumed: 250 * i,
        })),
        queueUrl: 'http://localhost:4566/123456789012/m2-product-updates',
        // The second event arrived while the first invocation still ran: started 1.5 s late.
        scalerCalls: [
          { atS: -20, startedAtS: -20 },
          { atS: 40, startedAtS: 41.5 },
          { atS: 100, startedAtS: 100.1, error: 'Timeout: boom' },
        ],
        wake: {
          scheduleAtS: -20,
          startedAtS: -20,
          idleWatch: { atS: 0.6, queue: 'm2-product-updates', rounds: 7 },
          scaledUpAtS: 0.9,
          from: 0,
          to: 10,
        },
        firstScaleUpS: 1,
        peakReplicas: 10,
        drainedAtS: 3.5,
        zeroAtS: 4,
        totalS: 4.2,
        timedOut: false,
        notes: ['cooldown annotation 300 s → 30 s for the demo'],
      },
    },
    releases: sampleReleases(),
  };
}
