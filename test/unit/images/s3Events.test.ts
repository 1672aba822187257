import { describe, expect, it } from 'vitest';
import { compareSequencers, parseS3Records } from '../../../lib/images/s3Events.ts';
import { s3Event } from '../../helpers/s3.ts';

describe('parseS3Records', () => {
  it('parses created and removed records with decoded keys', () => {
    const event = s3Event('media', [
      { action: 'created', key: 'catalog/product/red shoe+1.jpg', size: 10 },
      { action: 'removed', key: 'catalog/product/x.jpg' },
    ]);
    const parsed = parseS3Records(event.Records);
    expect(parsed.map((p) => (p.ok ? [p.event.action, p.event.key, p.event.size] : p.problem))).toEqual([
      ['created', 'catalog/product/red shoe+1.jpg', 10],
      ['removed', 'catalog/product/x.jpg', 0],
    ]);
  });

  it('reports a malformed record by index and keeps its neighbours', () => {
    const good = s3Event('media', [{ action: 'created', key: 'catalog/product/a.jpg', size: 1 }]).Records[0];
    const parsed = parseS3Records([{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: {} }, good]);
    expect(parsed[0]).toEqual({ ok: false, index: 0, problem: expect.stringContaining('s3.bucket') });
    expect(parsed[1]?.ok).toBe(true);
  });

  it.each([
    ['an unsupported event', { eventName: 'ObjectRestore:Completed' }, 'eventName'],
    ['another event source', { eventSource: 'aws:sqs' }, 'eventSource'],
    ['a broken key encoding', { key: 'bad%E0%A4%A.jpg' }, 's3.object.key'],
    ['a non-hex sequencer', { sequencer: 'xyz' }, 's3.object.sequencer'],
  ])('rejects %s', (_label, change, field) => {
    const record = structuredClone(
      s3Event('media', [{ action: 'created', key: 'catalog/product/a.jpg', size: 1 }]).Records[0],
    ) as unknown as Record<string, unknown> & { s3: { object: Record<string, unknown> } };
    if ('key' in change) record.s3.object.key = change.key;
    else if ('sequencer' in change) record.s3.object.sequencer = change.sequencer;
    else Object.assign(record, change);
    const [parsed] = parseS3Records([record]);
    expect(parsed?.ok).toBe(false);
    expect(parsed && !parsed.ok && parsed.problem).toContain(field);
  });
});

describe('compareSequencers', () => {
  it.each([
    ['0055AED6DCD90281E5', '0055AED6DCD90281E6', -1],
    ['0055AED6DCD90281E6', '0055AED6DCD90281E5', 1],
    ['0055aed6dcd90281e5', '0055AED6DCD90281E5', 0],
    ['55AED6DCD90281E5', '0055AED6DCD90281E6', -1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareSequencers(a, b)).toBe(expected);
  });
});
