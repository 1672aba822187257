/** A message as the consumer recorded it in m2_consumed_message (the stand-in's bin/magento). */
export interface RecordedMessage {
  readonly id: string;
  /** The pod that recorded it first. */
  readonly host: string;
  /** How many times its work was done: 1, plus one per later delivery that was processed again. */
  readonly deliveries: number;
}

/** A `consumer … processed message <id>` line of a consumer pod's log (printed after the delete). */
export interface LoggedMessage {
  readonly id: string;
  readonly host: string;
}

/** What became of a known set of messages. */
export interface MessageAccount {
  readonly sent: number;
  /** Processed at least once. */
  readonly processed: number;
  /** Processed more than once (their work was done twice). */
  readonly duplicated: number;
  /** Never processed, and no longer in the queue: gone for good. */
  readonly lost: number;
  /** Never processed yet, but still in the queue (visible or in flight): not lost, late. */
  readonly pending: number;
  /**
   * Recorded as done more often than logged as deleted: a consumer died between a message's work and
   * its DeleteMessage, so SQS delivered it again after its visibility timeout.
   */
  readonly unacknowledged: number;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/**
 * Accounts for every message id sent: processed once, more than once, or never — from the two
 * records the consumers leave (the database row written after each message's work, and the log line
 * printed after its DeleteMessage) and the queue's remaining depth. A message is processed as many
 * times as the larger of the two records says; one that neither records is pending while the queue
 * still holds that many messages, and lost beyond that. Ids that were not sent are ignored.
 *
 * @example
 * accountMessages({ sent: ['a', 'b'], recorded: [{ id: 'a', host: 'p1', deliveries: 2 }], logged: [], queued: 0 })
 * // → { sent: 2, processed: 1, duplicated: 1, lost: 1, pending: 0, unacknowledged: 1 }
 */
export function accountMessages(input: {
  readonly sent: readonly string[];
  readonly recorded: readonly RecordedMessage[];
  readonly logged: readonly LoggedMessage[];
  /** Messages still in the queue (ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible). */
  readonly queued: number;
}): MessageAccount {
  const deliveries = new Map(input.recorded.map((r) => [r.id, r.deliveries]));
  const logLines = countBy(input.logged, (m) => m.id);
  let processed = 0;
  let duplicated = 0;
  let unacknowledged = 0;
  for (const id of new Set(input.sent)) {
    const times = Math.max(deliveries.get(id) ?? 0, logLines.get(id) ?? 0);
    if (times >= 1) processed += 1;
    if (times >= 2) duplicated += 1;
    if ((deliveries.get(id) ?? 0) > (logLines.get(id) ?? 0)) unacknowledged += 1;
  }
  const sent = new Set(input.sent).size;
  const unprocessed = sent - processed;
  const pending = Math.min(unprocessed, Math.max(0, input.queued));
  return { sent, processed, duplicated, lost: unprocessed - pending, pending, unacknowledged };
}
