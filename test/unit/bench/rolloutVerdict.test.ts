import { describe, expect, it } from 'vitest';
import { type LogLine, rolloutVerdictOf } from '../../../bench/lib/traffic/rolloutVerdict.ts';

const line = (at: number, message: string): LogLine => ({ at, message, fields: {} });

describe('rolloutVerdictOf', () => {
  it('names a failure on the preview Deployment "caught on preview", timed from the first Ready pod to the failed check', () => {
    // Prepare
    const result = {
      outcome: 'failed' as const,
      message: 'deployment/m2-http-preview: smoke check GET / answered 500',
      failure: { kind: 'SmokeCheckFailedError', target: 'ns/deployment/m2-http-preview' },
    };
    const lines = [
      line(1_000, 'target patched'),
      line(9_500, 'smoke check failed'),
      line(9_700, 'rollout phase failed'),
    ];

    // Act
    const verdict = rolloutVerdictOf(result, lines, 0, 8_000);

    // Assess
    expect(verdict).toEqual({ verdict: 'caught on preview (SmokeCheckFailedError)', sinceReadyMs: 1_500 });
  });

  it('names a failure on m2-http whose report says so "rolled back"', () => {
    // Prepare
    const result = {
      outcome: 'failed' as const,
      message:
        'deployment/m2-http: CrashLoopBackOff. Rolled back to the recorded images: ns/deployment/m2-http.',
      failure: { kind: 'TargetFailedError', target: 'ns/deployment/m2-http' },
    };

    // Act
    const verdict = rolloutVerdictOf(result, [line(30_000, 'rollout phase failed')], 0, undefined);

    // Assess
    expect(verdict).toEqual({ verdict: 'rolled back (TargetFailedError)' });
  });

  it('times a good release to its last passed checks and prices the preview up to "preview passed"', () => {
    // Prepare
    const lines = [
      line(12_000, 'smoke checks passed'),
      line(12_100, 'preview passed'),
      line(50_000, 'smoke checks passed'),
    ];

    // Act
    const verdict = rolloutVerdictOf({ outcome: 'succeeded', message: 'done' }, lines, 2_000, 10_000);

    // Assess
    expect(verdict).toEqual({ verdict: 'succeeded', sinceReadyMs: 40_000, previewMs: 10_100 });
  });

  it('passes any other outcome through by name', () => {
    // Act
    const verdict = rolloutVerdictOf({ outcome: 'refused', message: 'lease held' }, [], 0, undefined);

    // Assess
    expect(verdict.verdict).toBe('refused');
  });
});
