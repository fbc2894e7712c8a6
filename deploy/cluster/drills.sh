#!/usr/bin/env bash
# The four fault drills on the running cluster (docs/operations.md, "Drills"):
#   bash deploy/cluster/drills.sh [primary-restart|redis-stop|app-kill|replica|all] [--residents=8] [--seconds=15]
source "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "root が必要です。"
curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null || die "クラスタが動いていません（make cluster）。"
cd "$REPO"
exec "$VENV/bin/python" -m bench.load.drills "$@"
