import { describe, expect, it } from 'vitest';
import { isApiserverStatus } from '../../../lib/k8s/services.ts';
import { SmokePlanError } from '../../../lib/rollout/errors.ts';
import {
  bodyStart,
  defaultSmokeChecks,
  judgeResponse,
  linkedAsset,
  nextAttemptIn,
  type SmokeCheck,
  smokeAnnotations,
  smokePlan,
} from '../../../lib/rollout/smokeChecks.ts';

const target = 'shop-a/deployment/m2-http';
const plan = (annotations: Record<string, string>) => smokePlan(target, annotations);
const checks = (value: string) => plan({ [smokeAnnotations.checks]: value });

describe('smokePlan', () => {
  it('takes the defaults when the Deployment declares nothing: home (with its asset) and GraphQL, 60 s', () => {
    // Act
    const result = plan({});

    // Assess
    expect(result.source).toBe('default');
    expect(result.budgetMs).toBe(60_000);
    expect(result.checks).toBe(defaultSmokeChecks);
    expect(result.checks.map((c) => c.path)).toEqual([
      '/',
      '/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D',
    ]);
    expect(result.checks[0]?.asset).toBe(true);
  });

  it('turns the checks off for an empty list', () => {
    expect(checks('[]')).toMatchObject({ checks: [], source: 'annotation' });
  });

  it.each([
    ['a status', '[{"path":"/men.html","status":200}]', { path: '/men.html', statuses: [200], asset: false }],
    ['no status (200)', '[{"path":"/"}]', { path: '/', statuses: [200], asset: false }],
    [
      'several statuses',
      '[{"path":"/","status":[200,302]}]',
      { path: '/', statuses: [200, 302], asset: false },
    ],
    [
      'contains and asset',
      '[{"path":"/joust-duffle-bag.html","contains":"24-MB01","asset":true}]',
      { path: '/joust-duffle-bag.html', statuses: [200], contains: '24-MB01', asset: true },
    ],
    [
      'a query',
      '[{"path":"/graphql?query=%7Bx%7D"}]',
      { path: '/graphql?query=%7Bx%7D', statuses: [200], asset: false },
    ],
  ])('reads a check with %s', (_title, value, expected) => {
    expect(checks(value).checks).toEqual([expected]);
  });

  it.each([
    ['not JSON', '[{path:/}]', /not valid JSON/],
    ['not a list', '{"path":"/"}', /expected array/i],
    ['a relative path', '[{"path":"men.html"}]', /\[0\.path\] must start with \//],
    ['a space in the path', '[{"path":"/a b"}]', /\[0\.path\]/],
    ['a full URL', '[{"path":"https://shop.example.com/"}]', /\[0\.path\]/],
    ['a status out of range', '[{"path":"/","status":700}]', /\[0\.status\]/],
    ['an unknown key', '[{"path":"/","expect":200}]', /unrecognized key/i],
    ['an empty contains', '[{"path":"/","contains":""}]', /\[0\.contains\]/],
    ['eleven checks', JSON.stringify(Array(11).fill({ path: '/' })), /too big|at most 10/i],
  ])('refuses %s, naming the Deployment and the annotation', (_title, value, message) => {
    // Act
    const refused = (() => {
      try {
        checks(value);
        return undefined;
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(refused).toBeInstanceOf(SmokePlanError);
    const error = refused as SmokePlanError;
    expect(error.annotation).toBe(smokeAnnotations.checks);
    expect(error.message).toContain(`${target}: annotation ${smokeAnnotations.checks}: `);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['5', 5_000],
    ['600', 600_000],
  ])('reads a budget of %s seconds', (value, ms) => {
    expect(plan({ [smokeAnnotations.budgetSeconds]: value }).budgetMs).toBe(ms);
  });

  it.each(['4', '601', '1.5', 'soon', ''])('refuses a budget of "%s" seconds', (value) => {
    expect(() => plan({ [smokeAnnotations.budgetSeconds]: value })).toThrow(
      new RegExp(`annotation ${smokeAnnotations.budgetSeconds}: must be a whole number`),
    );
  });
});

describe('judgeResponse', () => {
  const home: SmokeCheck = { path: '/', statuses: [200], asset: false };
  const response = (status: number, body: string) => ({ status, contentType: 'text/html', body });

  it.each([
    ['the expected status', home, response(200, '<html></html>'), 'pass'],
    ['another expected status', { ...home, statuses: [200, 302] }, response(302, ''), 'pass'],
    ['a 500 error page', home, response(500, '<html>error</html>'), 'mismatch'],
    ['a 503 maintenance page', home, response(503, 'maintenance'), 'mismatch'],
    ['a 302 where 200 is expected', home, response(302, ''), 'mismatch'],
    ['the text it must contain', { ...home, contains: '24-MB01' }, response(200, '<p>24-MB01</p>'), 'pass'],
    ['a 200 without the text', { ...home, contains: '24-MB01' }, response(200, '<p>empty</p>'), 'mismatch'],
  ] as const)('judges %s', (_title, check, answer, kind) => {
    expect(judgeResponse(check, answer).kind).toBe(kind);
  });

  it('says what came back and the first bytes of the body', () => {
    // Act
    const verdict = judgeResponse(
      home,
      response(
        500,
        '<!doctype html>\n<html>  <head><title>There has been an error processing your request</title>',
      ),
    );

    // Assess
    expect(verdict).toEqual({
      kind: 'mismatch',
      reason:
        'answered 500 (expected 200); body starts "<!doctype html> <html> <head><title>There has been an error processing your request</title>"',
    });
  });

  it('clips a long body to 160 characters', () => {
    expect(bodyStart('x'.repeat(1000))).toHaveLength(160);
  });
});

describe('linkedAsset', () => {
  it.each([
    [
      'a versioned stylesheet',
      '<link rel="stylesheet" href="/static/version1746464646/frontend/Magento/luma/en_US/css/styles-m.css">',
      '/static/version1746464646/frontend/Magento/luma/en_US/css/styles-m.css',
    ],
    [
      // What the apiserver's proxy makes of the same link (it rewrites links in HTML to go through itself).
      'a link the service proxy rewrote',
      '<link href="/api/v1/namespaces/shop-a/services/m2-http-smoke:http/proxy/static/version1/frontend/Magento/luma/en_US/css/styles-m.css"/>',
      '/static/version1/frontend/Magento/luma/en_US/css/styles-m.css',
    ],
    [
      'an unsigned script (static signing off)',
      "<script src='/static/frontend/Magento/luma/en_US/requirejs/require.js'></script>",
      '/static/frontend/Magento/luma/en_US/requirejs/require.js',
    ],
    ['an image only', '<img src="/static/frontend/Magento/luma/en_US/images/logo.svg">', undefined],
    ['no static file', '<html><body>hello</body></html>', undefined],
  ])('finds %s', (_title, body, expected) => {
    expect(linkedAsset(body)).toBe(expected);
  });
});

describe('nextAttemptIn', () => {
  const shape = { attempts: 4, firstPauseMs: 500 };

  it.each([
    [1, 0, 60_000, 500],
    [2, 0, 60_000, 1000],
    [3, 0, 60_000, 2000],
    [4, 0, 60_000, undefined],
    // The pause would end at or after the budget's deadline.
    [1, 59_600, 60_000, undefined],
    [2, 58_000, 60_000, 1000],
  ])(
    'after %i failed attempts at %i ms with the deadline at %i ms: %s',
    (attempt, now, deadline, expected) => {
      expect(nextAttemptIn(attempt, now, deadline, shape)).toBe(expected);
    },
  );
});

describe('isApiserverStatus', () => {
  const status = (code: number, message: string) =>
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code });

  it.each([
    [
      'no endpoints (503 Status)',
      503,
      'application/json',
      status(503, 'no endpoints available for service "x"'),
      true,
    ],
    ['a refusal (403 Status)', 403, 'application/json', status(403, 'forbidden'), true],
    ['the shop’s 503 page', 503, 'text/html', '<html>maintenance</html>', false],
    [
      'the shop’s JSON error',
      500,
      'application/json',
      '{"errors":[{"message":"Internal server error"}]}',
      false,
    ],
    ['a 200 that looks like a Status', 200, 'application/json', status(200, 'ok'), false],
    ['a JSON error that is not JSON', 502, 'application/json', 'Bad Gateway', false],
  ])('tells %s', (_title, code, contentType, body, expected) => {
    expect(isApiserverStatus({ status: code, contentType, body })).toBe(expected);
  });
});
