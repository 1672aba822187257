import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadRun } from '../../../bench/lib/traffic/loadGenerator.ts';
import { storefrontLoad, trafficFigures } from '../../../scripts/demo/releaseTraffic.ts';

describe('trafficFigures', () => {
  it('counts requests per second on the release’s clock, failed ones apart, with empty seconds listed', () => {
    // Prepare: the load started 2.5 s before the first job; one request per case below.
    const run: LoadRun = {
      startedAt: 10_000,
      endedBy: 'stopped',
      records: [
        { path: '/', startMs: 100, endMs: 110, outcome: { kind: 'response', status: 200 } }, // -2.4 s
        { path: '/', startMs: 2_600, endMs: 2_620, outcome: { kind: 'response', status: 503 } }, // 0.1 s
        { path: '/', startMs: 2_700, endMs: 12_700, outcome: { kind: 'error', reason: 'timeout' } }, // 0.2 s
        { path: '/', startMs: 2_800, endMs: 2_810, outcome: { kind: 'response', status: 200 } }, // 0.3 s
        { path: '/', startMs: 5_900, endMs: 5_950, outcome: { kind: 'unfinished' } }, // 3.4 s
      ],
    };

    // Act
    const figures = trafficFigures(run, 12_500, { target: 'http://10.96.0.17:80', rate: 20 });

    // Assess
    expect(figures.seconds).toEqual([
      { atS: -3, sent: 1, served: 1, failed: 0 },
      { atS: -2, sent: 0, served: 0, failed: 0 },
      { atS: -1, sent: 0, served: 0, failed: 0 },
      { atS: 0, sent: 3, served: 1, failed: 2 },
      { atS: 1, sent: 0, served: 0, failed: 0 },
      { atS: 2, sent: 0, served: 0, failed: 0 },
      { atS: 3, sent: 1, served: 0, failed: 0 },
    ]);
    expect(figures.summary).toMatchObject({
      requests: 5,
      served: 2,
      failed: 2,
      unfinished: 1,
      failures: { '503': 1, timeout: 1 },
    });
    expect(figures.failedRequests.map((r) => r.startMs)).toEqual([100, 200]);
  });

  it('has no seconds for a run that sent nothing', () => {
    // Act
    const figures = trafficFigures({ startedAt: 0, endedBy: 'stopped', records: [] }, 0, {
      target: 'http://x',
      rate: 1,
    });

    // Assess
    expect(figures.seconds).toEqual([]);
    expect(figures.summary.requests).toBe(0);
  });
});

/**
 * A storefront on 127.0.0.1 that serves 200 until told to fail: then its next 12 requests answer 500
 * and the 2 after them lose their connection. It counts what it did, independently of the generator.
 */
function flakyStorefront() {
  const did = { ok: 0, status500: 0, reset: 0 };
  let failNext = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    if (failNext > 2) {
      failNext -= 1;
      did.status500 += 1;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('error');
    } else if (failNext > 0) {
      failNext -= 1;
      did.reset += 1;
      req.socket.destroy();
    } else {
      did.ok += 1;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>ok</html>');
    }
  });
  return {
    did,
    server,
    failFromNow: () => {
      failNext = 14;
    },
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      ),
  };
}

describe('storefrontLoad', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  it('records every request the storefront answered or dropped, and shows each failure as failed', async () => {
    // Prepare
    const storefront = flakyStorefront();
    server = storefront.server;
    const target = await storefront.listen();
    const load = storefrontLoad({
      target,
      rate: 20,
      baselineMs: 1_000,
      tailMs: 1_500,
      maxMs: 30_000,
      paths: ['/', '/gear.html'],
    });

    // Act: the baseline, then the "release" starts failing requests, then the tail.
    await load.start();
    const originMs = Date.now();
    storefront.failFromNow();
    const figures = await load.stop(originMs);

    // Assess: what the generator recorded is what the server did.
    const { summary } = figures;
    expect(summary.failed).toBe(storefront.did.status500 + storefront.did.reset);
    expect(summary.failures['500']).toBe(12);
    expect(storefront.did.reset).toBe(2);
    // A request in flight at the stop is unfinished for the generator, whether or not the server answered it.
    expect(storefront.did.ok - summary.served).toBeGreaterThanOrEqual(0);
    expect(storefront.did.ok - summary.served).toBeLessThanOrEqual(summary.unfinished);
    expect(figures.seconds.reduce((n, s) => n + s.failed, 0)).toBe(14);
    expect(figures.seconds.reduce((n, s) => n + s.sent, 0)).toBe(summary.requests);
    // The baseline is on the plot, before the first job.
    expect(figures.seconds[0]?.atS).toBeLessThan(0);
    expect(figures.endedBy).toBe('stopped');
  });
});
