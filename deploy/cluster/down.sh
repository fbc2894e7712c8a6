#!/usr/bin/env bash
# `make cluster-down`: removes what up.sh made (and only that). Idempotent.
source "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "root が必要です。sudo make cluster-down で実行してください。"

if pid_alive "$STATE/nginx/nginx.pid"; then
    say "nginx を止めます"
    nginx -s quit -c "$STATE/nginx/nginx.conf" -p "$STATE/nginx/" || kill "$(cat "$STATE/nginx/nginx.pid")"
fi
for i in "${APP_HOSTS[@]}"; do
    for pidfile in "$STATE/app$i.pid" "$STATE/app$i-public.pid"; do
        if pid_alive "$pidfile"; then
            say "app host $i を止めます（$(basename "$pidfile" .pid)）"
            kill -TERM "$(cat "$pidfile")"
        fi
    done
done
if [ -s "$STATE/redis.pid" ] && kill -0 "$(cat "$STATE/redis.pid")" 2>/dev/null; then
    say "Redis（port $REDIS_PORT）を止めます"
    kill -TERM "$(cat "$STATE/redis.pid")"
fi
for name in "$REPLICA_NAME" "$PRIMARY_NAME"; do
    if cluster_exists "$name"; then
        say "PostgreSQL クラスタ $name を削除します"
        pg_dropcluster --stop "$PGVER" "$name"
    fi
done
for i in "${APP_HOSTS[@]}"; do
    ip link del "$(host_if "$i")" 2>/dev/null || true
    ip netns del "$(ns_name "$i")" 2>/dev/null || true
done
sleep 1
rm -rf "$STATE"
say "片付けました（マシンの PostgreSQL 5432 と Redis 6379 には触れていません）。"
