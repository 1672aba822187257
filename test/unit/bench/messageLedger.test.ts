import { describe, expect, it } from 'vitest';
import {
  accountMessages,
  type LoggedMessage,
  type RecordedMessage,
} from '../../../bench/lib/traffic/messageLedger.ts';

const rec = (id: string, deliveries = 1, host = 'p1'): RecordedMessage => ({ id, host, deliveries });
const log = (id: string, host = 'p1'): LoggedMessage => ({ id, host });

describe('accountMessages', () => {
  it.each([
    {
      case: 'every message processed once, both records agree',
      recorded: [rec('a'), rec('b'), rec('c')],
      logged: [log('a'), log('b'), log('c')],
      queued: 0,
      account: { processed: 3, duplicated: 0, lost: 0, pending: 0, unacknowledged: 0 },
    },
    {
      case: 'a message never processed with the queue empty is lost',
      recorded: [rec('a'), rec('b')],
      logged: [log('a'), log('b')],
      queued: 0,
      account: { processed: 2, duplicated: 0, lost: 1, pending: 0, unacknowledged: 0 },
    },
    {
      case: 'a message never processed that the queue still holds is pending',
      recorded: [rec('a'), rec('b')],
      logged: [log('a'), log('b')],
      queued: 1,
      account: { processed: 2, duplicated: 0, lost: 0, pending: 1, unacknowledged: 0 },
    },
    {
      case: 'a queue deeper than the unprocessed messages (other messages) makes none lost',
      recorded: [rec('a')],
      logged: [log('a')],
      queued: 5,
      account: { processed: 1, duplicated: 0, lost: 0, pending: 2, unacknowledged: 0 },
    },
    {
      case: 'killed between work and delete, then processed again elsewhere: duplicated and unacknowledged',
      recorded: [rec('a'), rec('b', 2), rec('c')],
      logged: [log('a'), log('b', 'p2'), log('c')],
      queued: 0,
      account: { processed: 3, duplicated: 1, lost: 0, pending: 0, unacknowledged: 1 },
    },
    {
      case: 'a log line without its row (the row is counted by the larger record) is processed',
      recorded: [rec('a')],
      logged: [log('a'), log('b')],
      queued: 0,
      account: { processed: 2, duplicated: 0, lost: 1, pending: 0, unacknowledged: 0 },
    },
    {
      case: 'two log lines for one id are a duplicate even if the row counted one',
      recorded: [rec('a'), rec('b'), rec('c')],
      logged: [log('a'), log('a', 'p2'), log('b'), log('c')],
      queued: 0,
      account: { processed: 3, duplicated: 1, lost: 0, pending: 0, unacknowledged: 0 },
    },
    {
      case: 'ids that were not sent are ignored',
      recorded: [rec('a'), rec('b'), rec('c'), rec('x', 3)],
      logged: [log('a'), log('b'), log('c'), log('y')],
      queued: 0,
      account: { processed: 3, duplicated: 0, lost: 0, pending: 0, unacknowledged: 0 },
    },
  ])('$case', ({ recorded, logged, queued, account }) => {
    // Act
    const result = accountMessages({ sent: ['a', 'b', 'c'], recorded, logged, queued });

    // Assess
    expect(result).toEqual({ sent: 3, ...account });
  });

  it('counts a message sent twice under one id once', () => {
    // Act
    const result = accountMessages({ sent: ['a', 'a'], recorded: [rec('a')], logged: [log('a')], queued: 0 });

    // Assess
    expect(result).toMatchObject({ sent: 1, processed: 1, duplicated: 0, lost: 0 });
  });
});
