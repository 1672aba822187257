#!/bin/sh
# preStop hook of a consumer pod: ask consumer-run.sh to start no new batch, then wait until the
# running batch has finished. The kubelet sends SIGTERM afterwards, and the wrapper exits at once.
# Bounded by terminationGracePeriodSeconds (>= the worst-case batch time).
state_dir="${CONSUMER_STATE_DIR:-/tmp/m2-consumer}"
mkdir -p "$state_dir"
: >"$state_dir/stop"
while [ -e "$state_dir/busy" ]; do
  sleep 1
done
