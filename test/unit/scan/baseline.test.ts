import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BaselineEntry,
  compareWithBaseline,
  describeComparison,
  loadBaseline,
} from '../../../scripts/scan/baseline.ts';
import { BaselineError } from '../../../scripts/scan/errors.ts';
import type { Finding } from '../../../scripts/scan/finding.ts';
import { baselineFiles } from '../../../scripts/scan/scan.ts';

const finding = (check: string, resource: string, file = 'template (default params)'): Finding => ({
  check,
  resource,
  file,
  title: `title of ${check}`,
});
const entry = (check: string, resources: string[]): BaselineEntry => ({
  check,
  resources,
  reason: 'a reason of one line',
});

describe('compareWithBaseline', () => {
  it.each([
    {
      name: 'accepts findings the baseline lists, whichever file shows them',
      findings: [finding('CKV_AWS_117', 'Fn.A'), finding('CKV_AWS_117', 'Fn.A', 'template (all options)')],
      baseline: [entry('CKV_AWS_117', ['Fn.A'])],
      unlisted: [],
      stale: [],
    },
    {
      name: 'reports a finding on a resource the entry does not name',
      findings: [finding('CKV_AWS_117', 'Fn.A'), finding('CKV_AWS_117', 'Fn.B')],
      baseline: [entry('CKV_AWS_117', ['Fn.A'])],
      unlisted: [['CKV_AWS_117', 'Fn.B']],
      stale: [],
    },
    {
      name: 'reports a check the entry for the same resource does not name',
      findings: [finding('CKV_AWS_116', 'Fn.A')],
      baseline: [entry('CKV_AWS_117', ['Fn.A'])],
      unlisted: [['CKV_AWS_116', 'Fn.A']],
      stale: [{ check: 'CKV_AWS_117', resource: 'Fn.A' }],
    },
    {
      name: 'reports each resource of an entry that no scan found any more',
      findings: [finding('CKV_AWS_27', 'Queue.A')],
      baseline: [entry('CKV_AWS_27', ['Queue.A', 'Queue.B', 'Queue.C'])],
      unlisted: [],
      stale: [
        { check: 'CKV_AWS_27', resource: 'Queue.B' },
        { check: 'CKV_AWS_27', resource: 'Queue.C' },
      ],
    },
    {
      name: 'reports every finding against an empty baseline',
      findings: [finding('E2531', 'Fn.A')],
      baseline: [],
      unlisted: [['E2531', 'Fn.A']],
      stale: [],
    },
  ])('$name', ({ findings, baseline, unlisted, stale }) => {
    const comparison = compareWithBaseline(findings, baseline);
    expect(comparison.unlisted.map((f) => [f.check, f.resource])).toEqual(unlisted);
    expect(comparison.stale).toEqual(stale);
  });

  it('names every file that showed an unlisted finding once', () => {
    const comparison = compareWithBaseline(
      [finding('C', 'R', 'default'), finding('C', 'R', 'all options'), finding('C', 'R', 'default')],
      [],
    );
    expect(comparison.unlisted.map((f) => f.file)).toEqual(['default, all options']);
  });
});

describe('describeComparison', () => {
  it('names check, resource, file and the baseline file of a new finding and of a stale entry', () => {
    const lines = describeComparison('checkov', 'security/baseline/x.yaml', {
      unlisted: [finding('CKV_AWS_117', 'AWS::Lambda::Function.Fn', 'packaged template (all options)')],
      stale: [{ check: 'CKV_AWS_27', resource: 'AWS::SQS::Queue.Q' }],
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('CKV_AWS_117 on AWS::Lambda::Function.Fn in packaged template (all options)');
    expect(lines[0]).toContain('security/baseline/x.yaml');
    expect(lines[1]).toContain('CKV_AWS_27 on AWS::SQS::Queue.Q');
    expect(lines[1]).toContain('remove it');
  });
});

describe('loadBaseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm2-baseline-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it.each(Object.values(baselineFiles))('reads the shipped %s', (file) => {
    const entries = loadBaseline(join(import.meta.dirname, '..', '..', '..', file));
    expect(entries.length).toBeGreaterThan(0);
  });

  it('resolves YAML aliases, so one resource list serves several checks', () => {
    const file = write(
      'alias.yaml',
      'accepted:\n  - check: A\n    resources: &r [X, Y]\n    reason: first reason here\n  - check: B\n    resources: *r\n    reason: second reason here\n',
    );
    expect(loadBaseline(file).map((e) => [e.check, e.resources])).toEqual([
      ['A', ['X', 'Y']],
      ['B', ['X', 'Y']],
    ]);
  });

  it.each([
    ['an entry without a reason', 'accepted:\n  - check: A\n    resources: [X]\n', /accepted\.0\.reason/],
    [
      'an unknown key',
      'accepted:\n  - check: A\n    resources: [X]\n    reason: a good reason\n    why: x\n',
      /accepted\.0/,
    ],
    [
      'a reason of two lines',
      'accepted:\n  - check: A\n    resources: [X]\n    reason: "one\\ntwo lines of it"\n',
      /one line/,
    ],
    [
      'an empty resource list',
      'accepted:\n  - check: A\n    resources: []\n    reason: a good reason\n',
      /resources/,
    ],
    [
      'a check and resource listed twice',
      'accepted:\n  - check: A\n    resources: [X]\n    reason: a good reason\n  - check: A\n    resources: [X]\n    reason: another reason\n',
      /A X is listed twice/,
    ],
    ['text that is not YAML', 'accepted: [\n', /cannot be read as YAML/],
  ])('refuses %s, naming the file', (_name, text, message) => {
    const file = write('bad.yaml', text);
    expect(() => loadBaseline(file)).toThrow(BaselineError);
    expect(() => loadBaseline(file)).toThrow(message);
    expect(() => loadBaseline(file)).toThrow(file);
  });
});
