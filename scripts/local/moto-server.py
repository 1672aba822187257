"""moto_server for the embedded environment, with fixes for SQS at the depths the demo and tests use.

moto 5.2 (up to 5.2.5 at least) makes a 10,000-message queue unusably slow — the demo's burst and the
scaler's tests need one:
- SendMessage reads ``queue.attributes.get("ContentBasedDeduplication")`` and ReceiveMessage reads
  the retention period through ``get_queue_attributes`` *per message*. ``queue.attributes`` builds
  every attribute, including the three approximate message counts, each a scan of the whole queue:
  sending N messages costs O(N²) (10,000 took about 20 minutes) and receiving 10 messages from a
  10,000-message queue took seconds. Neither call uses the counts, so while they run on this thread
  the counts read as 0; everywhere else (GetQueueAttributes, …) they are computed exactly as before.
- ``Queue.delete_message`` rebuilds the queue's message list without the queue's lock, so two
  concurrent deletes (or a delete racing a send) put deleted messages back: with 8 parallel consumers
  draining 5,000 messages, about 1,000 reappeared. It now holds the lock ``add_message`` already uses.
  This one is a correctness fix: requests are still served concurrently, only the list edit is serial.
- Every visibility check calls ``unix_time_millis()``, which goes through naive-datetime arithmetic
  (about 6 µs); the same number from ``time.time()`` costs a tenth of that.

Usage: python3 moto-server.py [moto_server arguments]   (same arguments as ``moto_server``)
"""

import threading
import time

from moto.server import main
from moto.sqs import models
from moto.sqs.models import Queue, SQSBackend

_counts_unused = threading.local()


def _skip_counts_while_unused(name: str) -> None:
    original = getattr(Queue, name)

    def counted(self: Queue) -> int:
        return 0 if getattr(_counts_unused, "active", False) else original.fget(self)

    setattr(Queue, name, property(counted))


def _without_counts(name: str) -> None:
    original = getattr(SQSBackend, name)

    def wrapped(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        outer = getattr(_counts_unused, "active", False)
        _counts_unused.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _counts_unused.active = outer

    setattr(SQSBackend, name, wrapped)


for _count in (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
):
    _skip_counts_while_unused(_count)

_without_counts("send_message")
_without_counts("is_message_valid_based_on_retention_period")

_queue_delete_message = Queue.delete_message


def _delete_message_locked(self: Queue, receipt_handle: str) -> None:
    with self._messages_lock:
        _queue_delete_message(self, receipt_handle)


Queue.delete_message = _delete_message_locked  # type: ignore[method-assign]

_unix_time_millis = models.unix_time_millis


def _fast_unix_time_millis(dt=None):  # type: ignore[no-untyped-def]
    return time.time() * 1000.0 if dt is None else _unix_time_millis(dt)


models.unix_time_millis = _fast_unix_time_millis

if __name__ == "__main__":
    main()
