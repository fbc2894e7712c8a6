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
    { app_env "$(host_addr "$i")"; echo "GUNICORN_BIND=$(ns_addr "$i"):$PUBLIC_APP_PORT"
      echo "GUNICORN_WORKERS=${MDG_PUBLIC_WORKERS:-2}"; echo "GUNICORN_THREADS=${MDG_PUBLIC_THREADS:-4}"
      echo "GUNICORN_ACCESS_LOG=$STATE/log/app$i-public.access.log"; echo "GUNICORN_ERROR_LOG=$STATE/log/app$i-public.error.log"
    } > "$STATE/app$i-public.env"
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
# Each host runs two gunicorn instances: the staff pool (app$i) and the residents' pool
# (app$i-public), the latter at nice $PUBLIC_NICE, so a surge of web inquiries takes the CPU
# the operators leave and never the other way round (docs/deploy.md, "Two pools per app host").
gunicorn_cmd() {  # gunicorn_cmd HOST POOL_SUFFIX
    printf '%s' "ip netns exec $(ns_name "$1") env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 $(grep -v '^#' "$STATE/app$1$2.env" | xargs) $VENV/bin/gunicorn --config $REPO/deploy/gunicorn.conf.py --chdir $REPO --daemon --pid $STATE/app$1$2.pid madoguchi.wsgi"
}
for i in "${APP_HOSTS[@]}"; do
    cat > "$STATE/app$i-start.sh" <<CMD
#!/bin/sh
# Starts app host $i (up.sh, and the drills after killing it): its two gunicorn pools in its
# namespace, the staff's and the residents' (niced).
set -e
rm -f "$STATE/app$i.pid" "$STATE/app$i-public.pid"
$(gunicorn_cmd "$i" "")
nice -n $PUBLIC_NICE $(gunicorn_cmd "$i" -public)
# gunicorn --daemon starts a session of its own, and Linux gives each session an autogroup of
# its own whose share of the CPU does not follow its processes' nice: the residents' pool would
# get as much as the staff's. The autogroup's own nice sets it (systemd's CPUWeight= does the same in
# production, where each unit has its cgroup).
for _ in \$(seq 1 100); do [ -s "$STATE/app$i-public.pid" ] && break; sleep 0.1; done
echo $PUBLIC_NICE > "/proc/\$(cat "$STATE/app$i-public.pid")/autogroup" 2>/dev/null || true
CMD
    chmod +x "$STATE/app$i-start.sh"
    cat "$STATE/app$i.env" "$STATE/app$i-public.env" > "$STATE/app$i.env.wanted"
    if pid_alive "$STATE/app$i.pid" || pid_alive "$STATE/app$i-public.pid"; then
        # Running with the same settings: leave it. Changed settings: restart it.
        cmp -s "$STATE/app$i.env.wanted" "$STATE/app$i.env.running" && pid_alive "$STATE/app$i.pid" \
            && pid_alive "$STATE/app$i-public.pid" && continue
        say "app host $i の設定が変わったので再起動します"
        for pidfile in "$STATE/app$i.pid" "$STATE/app$i-public.pid"; do
            pid_alive "$pidfile" && kill -TERM "$(cat "$pidfile")"
        done
        for _ in $(seq 1 40); do
            pid_alive "$STATE/app$i.pid" || pid_alive "$STATE/app$i-public.pid" || break
            sleep 0.5
        done
    fi
    cp "$STATE/app$i.env.wanted" "$STATE/app$i.env.running"
    say "app host $i を起動します（$(ns_name "$i") $(ns_addr "$i"):$APP_PORT 職員, :$PUBLIC_APP_PORT フォーム）"
    "$STATE/app$i-start.sh"
done

# --- nginx (own instance, own configuration) -----------------------------------------------------
mkdir -p "$STATE/nginx/tls" "$STATE/nginx/tmp"
if [ ! -s "$STATE/nginx/tls/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,DNS:$PUBLIC_HOST,IP:127.0.0.1" \
        -keyout "$STATE/nginx/tls/key.pem" -out "$STATE/nginx/tls/cert.pem" 2>/dev/null
fi
servers() { for i in "${APP_HOSTS[@]}"; do printf '        server %s:%s max_fails=1 fail_timeout=10s;\n' "$(ns_addr "$i")" "$1"; done; }
upstreams="$(servers "$APP_PORT")"
public_upstreams="$(servers "$PUBLIC_APP_PORT")"
sed -e "s#@STATE@#$STATE#g" -e "s#@HTTP_PORT@#$HTTP_PORT#g" -e "s#@HTTPS_PORT@#$HTTPS_PORT#g" \
    -e "s#@PUBLIC_HOST@#$PUBLIC_HOST#g" -e "s#@REPO@#$REPO#g" \
    "$REPO/deploy/cluster/nginx.conf.in" \
    | awk -v up="$upstreams" -v pub="$public_upstreams" \
        '{ if ($0 ~ /@UPSTREAMS@/) print up; else if ($0 ~ /@PUBLIC_UPSTREAMS@/) print pub; else print }' \
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
    for port in "$APP_PORT" "$PUBLIC_APP_PORT"; do
        curl -fsS --max-time 5 -H "Host: localhost" "http://$(ns_addr "$i"):$port/healthz" >/dev/null \
            || die "app host $i（port $port）が応答しません"
    done
done
echo
say "起動しました。"
echo "  窓口（職員）:      http://127.0.0.1:$HTTP_PORT/   https://127.0.0.1:$HTTPS_PORT/（自己署名証明書）"
echo "  問い合わせフォーム: curl -H 'Host: $PUBLIC_HOST' http://127.0.0.1:$HTTP_PORT/inquiry/…"
echo "  app host:          $(for i in "${APP_HOSTS[@]}"; do printf '%s ' "$(ns_addr "$i"):$APP_PORT"; done)（職員）$(for i in "${APP_HOSTS[@]}"; do printf ' %s' "$(ns_addr "$i"):$PUBLIC_APP_PORT"; done)（フォーム, nice $PUBLIC_NICE）"
echo "  PostgreSQL:        primary 127.0.0.1:$PRIMARY_PORT, replica 127.0.0.1:$REPLICA_PORT（streaming）"
echo "  Redis:             127.0.0.1:$REDIS_PORT"
echo "  ログ:              $STATE/log/   止める: make cluster-down"
