#!/usr/bin/env bash
# `make cluster`: the production shape on this machine (docs/deploy.md, "make cluster").
# Idempotent: run it again and it starts what is not running and changes nothing else.
source "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "root が必要です（ip netns、pg_createcluster、apt）。sudo make cluster で実行してください。"
[ -x "$VENV/bin/gunicorn" ] || die "$VENV がありません。先に make .venv/.installed を実行してください。"
mkdir -p "$STATE" "$STATE/var" "$STATE/log"

# --- packages -------------------------------------------------------------------------------
need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v redis-server >/dev/null || need+=(redis-server)
command -v pg_createcluster >/dev/null || need+=(postgresql postgresql-common)
command -v openssl >/dev/null || need+=(openssl)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
    say "apt で ${need[*]} を入れます"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    PGVER="$(ls /usr/lib/postgresql | sort -n | tail -1)"; PGBIN="/usr/lib/postgresql/$PGVER/bin"
fi

# --- network: two namespaces, one veth pair each ---------------------------------------------
for i in "${APP_HOSTS[@]}"; do
    ns=$(ns_name "$i")
    if ! ip netns list | grep -qw "$ns"; then
        ip netns add "$ns"
    fi
    if ! ip link show "$(host_if "$i")" >/dev/null 2>&1; then
        ip link add "$(host_if "$i")" type veth peer name "$(ns_if "$i")"
        ip link set "$(ns_if "$i")" netns "$ns"
        ip addr add "$(host_addr "$i")/24" dev "$(host_if "$i")"
        ip netns exec "$ns" ip addr add "$(ns_addr "$i")/24" dev "$(ns_if "$i")"
    fi
    ip link set "$(host_if "$i")" up
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set "$(ns_if "$i")" up
done
say "app host の名前空間: $(for i in "${APP_HOSTS[@]}"; do printf '%s=%s ' "$(ns_name "$i")" "$(ns_addr "$i")"; done)"

listen="127.0.0.1$(for i in "${APP_HOSTS[@]}"; do printf ',%s' "$(host_addr "$i")"; done)"

# --- PostgreSQL primary (own cluster on PRIMARY_PORT) ----------------------------------------
if ! cluster_exists "$PRIMARY_NAME"; then
    say "PostgreSQL primary を作ります（$PRIMARY_NAME, port $PRIMARY_PORT）"
    pg_createcluster "$PGVER" "$PRIMARY_NAME" -p "$PRIMARY_PORT" --start-conf=manual -- --auth=trust >/dev/null
    cat > "/etc/postgresql/$PGVER/$PRIMARY_NAME/conf.d/madoguchi-cluster.conf" <<CONF
# Written by deploy/cluster/up.sh (a local copy of deploy/postgresql/primary.conf).
listen_addresses = '$listen'
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
wal_keep_size = 256MB
autovacuum = on
max_connections = 200
shared_buffers = 256MB
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
CONF
    # Local demo: trust from the namespaces' addresses (production: scram over TLS, pg_hba.conf).
    for i in "${APP_HOSTS[@]}"; do
        echo "host all postgres $(ns_addr "$i")/32 trust" >> "/etc/postgresql/$PGVER/$PRIMARY_NAME/pg_hba.conf"
    done
fi
cluster_running "$PRIMARY_NAME" || pg_ctlcluster "$PGVER" "$PRIMARY_NAME" start
psql_primary -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
    || psql_primary -c "CREATE DATABASE $DB_NAME"

# --- PostgreSQL replica: pg_basebackup of the primary, streaming --------------------------------
if cluster_exists "$REPLICA_NAME" && [ ! -f "/var/lib/postgresql/$PGVER/$REPLICA_NAME/standby.signal" ]; then
    pg_dropcluster --stop "$PGVER" "$REPLICA_NAME"   # a half-made replica of an interrupted run
fi
if ! cluster_exists "$REPLICA_NAME"; then
    say "replica を pg_basebackup で作ります（$REPLICA_NAME, port $REPLICA_PORT）"
    pg_createcluster "$PGVER" "$REPLICA_NAME" -p "$REPLICA_PORT" --start-conf=manual -- --auth=trust >/dev/null
    datadir="/var/lib/postgresql/$PGVER/$REPLICA_NAME"
    find "$datadir" -mindepth 1 -delete   # keep the directory (its parent belongs to root)
    psql_primary -tAc "SELECT 1 FROM pg_replication_slots WHERE slot_name='mdg_replica'" | grep -q 1 \
        && psql_primary -c "SELECT pg_drop_replication_slot('mdg_replica')" >/dev/null
    as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$datadir" \
        -X stream -R -C -S mdg_replica
    cat > "/etc/postgresql/$PGVER/$REPLICA_NAME/conf.d/madoguchi-cluster.conf" <<CONF
# Written by deploy/cluster/up.sh (a local copy of deploy/postgresql/replica.conf).
listen_addresses = '$listen'
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 30s
wal_receiver_status_interval = 1s
max_connections = 200
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
CONF
    for i in "${APP_HOSTS[@]}"; do
        echo "host all postgres $(ns_addr "$i")/32 trust" >> "/etc/postgresql/$PGVER/$REPLICA_NAME/pg_hba.conf"
    done
fi
cluster_running "$REPLICA_NAME" || pg_ctlcluster "$PGVER" "$REPLICA_NAME" start
[ "$(psql_replica -tAc 'SELECT pg_is_in_recovery()')" = t ] || die "replica がスタンバイになっていません"

# --- Redis (own instance) ---------------------------------------------------------------------
cat > "$STATE/redis-start.sh" <<CMD
#!/bin/sh
# Starts the cluster's Redis (up.sh, and the drills after stopping it).
exec redis-server --port $REDIS_PORT --bind "${listen//,/ }" --protected-mode no \\
    --save "" --appendonly no --maxmemory 256mb --maxmemory-policy volatile-ttl \\
    --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/log/redis.log" --dir "$STATE"
CMD
chmod +x "$STATE/redis-start.sh"
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "Redis を起動します（port $REDIS_PORT）"
    "$STATE/redis-start.sh"
fi

# --- the application: settings, schema, demo data, static files --------------------------------
[ -s "$STATE/secret_key" ] || (umask 077; "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(60))' > "$STATE/secret_key")
app_env() {  # app_env ADDRESS_OF_THE_SERVICES
    cat <<ENV
MADOGUCHI_DEMO=1
MADOGUCHI_VAR_DIR=$STATE/var
SECRET_KEY_FILE=$STATE/secret_key
DATABASE_URL=postgres://postgres@$1:$PRIMARY_PORT/$DB_NAME
DATABASE_REPLICA_URL=postgres://postgres@$1:$REPLICA_PORT/$DB_NAME
REDIS_URL=redis://$1:$REDIS_PORT/0
TRUSTED_PROXY_COUNT=1
ALLOWED_HOSTS=127.0.0.1,localhost,$PUBLIC_HOST
CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$HTTP_PORT,https://127.0.0.1:$HTTPS_PORT,http://localhost:$HTTP_PORT,https://localhost:$HTTPS_PORT,http://$PUBLIC_HOST:$HTTP_PORT,https://$PUBLIC_HOST:$HTTPS_PORT
SITE_URL=http://127.0.0.1:$HTTP_PORT
AUDIT_HEADS_DIR=$STATE/var/audit-heads
LOG_LEVEL=INFO
# Every resident of the load run and the drills comes from 127.0.0.1: the per-address limit of
# the form would refuse them after five. MDG_PUBLIC_RATE_LIMIT=5 restores the real setting.
PUBLIC_FORM_RATE_LIMIT=${MDG_PUBLIC_RATE_LIMIT:-100000000}
EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend
ENV
}
app_env 127.0.0.1 > "$STATE/host.env"
for i in "${APP_HOSTS[@]}"; do
    { app_env "$(host_addr "$i")"; echo "GUNICORN_BIND=$(ns_addr "$i"):$APP_PORT"
      echo "GUNICORN_WORKERS=${MDG_WORKERS:-2}"; echo "GUNICORN_THREADS=${MDG_THREADS:-4}"
      echo "GUNICORN_ACCESS_LOG=$STATE/log/app$i.access.log"; echo "GUNICORN_ERROR_LOG=$STATE/log/app$i.error.log"
    } > "$STATE/app$i.env"
done
on_host() { env $(grep -v '^#' "$STATE/host.env" | xargs) "$@"; }
say "migrate と seed-demo（primary へ）"
on_host "$VENV/bin/madoguchi" migrate --noinput >"$STATE/log/migrate.log"
on_host "$VENV/bin/madoguchi" seed-demo --targets "${DEMO_TARGETS:-2000}" | tee "$STATE/demo-logins.txt"
# The demo's list is left to a full rebuild of identification's index; production's cron runs
# this every minute. Without it the first searches rebuild it inside a request, holding the
# program's row lock, and deadlock against other requests' audit events (503s).
on_host "$VENV/bin/madoguchi" identify_reindex --stale >/dev/null
on_host "$VENV/bin/madoguchi" collectstatic --noinput >/dev/null

# --- the two app hosts ------------------------------------------------------------------------
for i in "${APP_HOSTS[@]}"; do
    cat > "$STATE/app$i-start.sh" <<CMD
#!/bin/sh
# Starts app host $i (up.sh, and the drills after killing it): gunicorn in its namespace.
exec ip netns exec $(ns_name "$i") env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 \\
    $(grep -v '^#' "$STATE/app$i.env" | xargs) \\
    "$VENV/bin/gunicorn" --config "$REPO/deploy/gunicorn.conf.py" --chdir "$REPO" \\
    --daemon --pid "$STATE/app$i.pid" madoguchi.wsgi
CMD
    chmod +x "$STATE/app$i-start.sh"
    if pid_alive "$STATE/app$i.pid"; then
        # Running with the same settings: leave it. Changed settings: restart it.
        cmp -s "$STATE/app$i.env" "$STATE/app$i.env.running" && continue
        say "app host $i の設定が変わったので再起動します"
        kill -TERM "$(cat "$STATE/app$i.pid")"
        for _ in $(seq 1 40); do pid_alive "$STATE/app$i.pid" || break; sleep 0.5; done
    fi
    cp "$STATE/app$i.env" "$STATE/app$i.env.running"
    say "app host $i を起動します（$(ns_name "$i") $(ns_addr "$i"):$APP_PORT）"
    "$STATE/app$i-start.sh"
done

# --- nginx (own instance, own configuration) -----------------------------------------------------
mkdir -p "$STATE/nginx/tls" "$STATE/nginx/tmp"
if [ ! -s "$STATE/nginx/tls/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,DNS:$PUBLIC_HOST,IP:127.0.0.1" \
        -keyout "$STATE/nginx/tls/key.pem" -out "$STATE/nginx/tls/cert.pem" 2>/dev/null
fi
upstreams="$(for i in "${APP_HOSTS[@]}"; do printf '        server %s:%s max_fails=1 fail_timeout=10s;\n' "$(ns_addr "$i")" "$APP_PORT"; done)"
sed -e "s#@STATE@#$STATE#g" -e "s#@HTTP_PORT@#$HTTP_PORT#g" -e "s#@HTTPS_PORT@#$HTTPS_PORT#g" \
    -e "s#@PUBLIC_HOST@#$PUBLIC_HOST#g" -e "s#@REPO@#$REPO#g" \
    "$REPO/deploy/cluster/nginx.conf.in" | awk -v up="$upstreams" '{ if ($0 ~ /@UPSTREAMS@/) print up; else print }' \
    > "$STATE/nginx/nginx.conf"
nginx -t -q -c "$STATE/nginx/nginx.conf" -p "$STATE/nginx/"
if pid_alive "$STATE/nginx/nginx.pid"; then
    nginx -s reload -c "$STATE/nginx/nginx.conf" -p "$STATE/nginx/"
else
    nginx -c "$STATE/nginx/nginx.conf" -p "$STATE/nginx/"
fi

# --- ready? --------------------------------------------------------------------------------------
for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 && break
    sleep 1
done
curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null || die "nginx 経由で /healthz が応答しません（$STATE/log を見てください）"
for i in "${APP_HOSTS[@]}"; do
    ip netns exec "$(ns_name "$i")" true
    curl -fsS --max-time 5 -H "Host: localhost" "http://$(ns_addr "$i"):$APP_PORT/healthz" >/dev/null || die "app host $i が応答しません"
done
echo
say "起動しました。"
echo "  窓口（職員）:      http://127.0.0.1:$HTTP_PORT/   https://127.0.0.1:$HTTPS_PORT/（自己署名証明書）"
echo "  問い合わせフォーム: curl -H 'Host: $PUBLIC_HOST' http://127.0.0.1:$HTTP_PORT/inquiry/…"
echo "  app host:          $(for i in "${APP_HOSTS[@]}"; do printf '%s ' "$(ns_addr "$i"):$APP_PORT"; done)"
echo "  PostgreSQL:        primary 127.0.0.1:$PRIMARY_PORT, replica 127.0.0.1:$REPLICA_PORT（streaming）"
echo "  Redis:             127.0.0.1:$REDIS_PORT"
echo "  ログ:              $STATE/log/   止める: make cluster-down"
