#!/usr/bin/env bash
# The load run on the running cluster (docs/benchmarks.md, "Load"), under the heavy-job lock:
#   bash deploy/cluster/load.sh --data [--households=1000000] [--cases=1000000]   # the data, once
#   bash deploy/cluster/load.sh [--operators=300] [--residents=165] [--resident-pace=1.5] [--seconds=600]
# Both in one turn of the lock:
#   flock /tmp/madoguchi-heavy.lock env MDG_LOCKED=1 sh -c 'bash deploy/cluster/load.sh --data && bash deploy/cluster/load.sh'
source "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "root が必要です。"
curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null || die "クラスタが動いていません（make cluster）。"
[ -x "$VENV/bin/locust" ] || "$VENV/bin/pip" install -q -e "$REPO[bench]"
cd "$REPO"
lock=(flock -w "${MDG_LOCK_WAIT:-86400}" /tmp/madoguchi-heavy.lock)
[ "${MDG_LOCKED:-}" = 1 ] && lock=()  # the caller holds the lock already (data and run in one turn)
if [ "${1:-}" = --data ]; then  # the data set, with the cluster's settings (its primary)
    shift
    exec "${lock[@]}" env $(grep -v '^#' "$STATE/host.env" | xargs) "$VENV/bin/python" -m bench.load.data "$@"
fi
if [ "${MDG_SMOKE:-}" = 1 ]; then  # a functional check of the harness (seconds, a few users): no lock
    exec "$VENV/bin/python" -m bench.load.run "$@"
fi
exec "${lock[@]}" "$VENV/bin/python" -m bench.load.run "$@"
