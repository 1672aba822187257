#!/bin/sh
# PID 1 of a consumer pod: runs one Magento queue consumer in batches of --max-messages.
# usage: consumer-run.sh <magento consumer name> <max messages per batch>
#
# Stopping never interrupts a batch. SIGTERM (kubelet) or the stop file (preStop hook,
# consumer-drain.sh) only prevent the next batch; the running `queue:consumers:start` child is not
# signalled (the kubelet signals PID 1 only), finishes its current messages and exits by itself:
# after <max messages>, or at once when the queue is empty (queue/consumers_wait_for_messages = 0).
set -u
consumer="$1"
max_messages="$2"
idle_seconds="${CONSUMER_IDLE_SECONDS:-5}"
max_failures="${CONSUMER_MAX_FAILURES:-3}"
state_dir="${CONSUMER_STATE_DIR:-/tmp/m2-consumer}"
stop_file="$state_dir/stop"
busy_file="$state_dir/busy"

mkdir -p "$state_dir"
rm -f "$stop_file" "$busy_file"
stopping=0
trap 'stopping=1' TERM INT QUIT
should_stop() { [ "$stopping" -eq 1 ] || [ -e "$stop_file" ]; }

cd "${MAGENTO_ROOT:-/var/www/html}" || exit 1
failures=0
while ! should_stop; do
  : >"$busy_file"
  php bin/magento queue:consumers:start "$consumer" --max-messages="$max_messages" &
  child=$!
  # `wait` returns early when a trapped signal arrives: keep waiting until the child is gone.
  while :; do
    wait "$child"
    status=$?
    kill -0 "$child" 2>/dev/null || break
  done
  rm -f "$busy_file"
  if [ "$status" -eq 0 ]; then
    failures=0
  else
    failures=$((failures + 1))
    echo "consumer $consumer exited with status $status ($failures in a row)" >&2
    # Let Kubernetes restart the container with back-off: a broken image shows up as
    # CrashLoopBackOff, which the rollout function detects and rolls back.
    [ "$failures" -ge "$max_failures" ] && exit "$status"
  fi
  should_stop && break
  # Pause between batches (an empty queue ends a batch immediately); a stop request cuts it short.
  sleep "$idle_seconds" &
  sleeper=$!
  wait "$sleeper"
  kill "$sleeper" 2>/dev/null
done
echo "consumer $consumer stopped after its last batch" >&2
exit 0
