# Shared names for the cluster scripts (sourced). Everything the cluster makes is named here,
# so `down.sh` removes exactly that and nothing of the machine's own services.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${MDG_CLUSTER_DIR:-$REPO/var/cluster}"
VENV="$REPO/.venv"
PGVER="${MDG_PG_VERSION:-$(ls /usr/lib/postgresql | sort -n | tail -1)}"
PGBIN="/usr/lib/postgresql/$PGVER/bin"

# PostgreSQL: our own primary and its streaming replica; the machine's cluster (5432) is left alone.
PRIMARY_NAME=mdgprimary
PRIMARY_PORT=5442
REPLICA_NAME=mdgreplica
REPLICA_PORT=5443
DB_NAME=madoguchi
# Redis: our own instance, so the drill that stops it stops nobody else's.
REDIS_PORT=6390
# nginx: the one entry point.
HTTP_PORT=8088
HTTPS_PORT=8443
PUBLIC_HOST=inquiry.localhost

# Two app hosts, each in its own network namespace behind a veth pair, in 10.77.0.0/16
# (a private range this machine does not otherwise use). Host side .1, namespace side .2.
APP_HOSTS=(1 2)
APP_PORT=8000
# Each app host runs two gunicorn pools: the staff side on APP_PORT, the residents' form on
# PUBLIC_APP_PORT at a lower CPU priority (docs/deploy.md, "Two pools per app host").
PUBLIC_APP_PORT=8001
PUBLIC_NICE="${MDG_PUBLIC_NICE:-10}"
ns_name() { echo "mdg-app$1"; }
host_if() { echo "mdg-h$1"; }
ns_if() { echo "mdg-n$1"; }
host_addr() { echo "10.77.$1.1"; }
ns_addr() { echo "10.77.$1.2"; }

say() { printf '\033[1m[cluster]\033[0m %s\n' "$*"; }
die() { printf '[cluster] エラー: %s\n' "$*" >&2; exit 1; }

as_postgres() { runuser -u postgres -- "$@"; }
psql_primary() { as_postgres psql -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres "$@"; }
psql_replica() { as_postgres psql -X -q -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres "$@"; }

cluster_running() { pg_lsclusters -h 2>/dev/null | awk -v n="$1" '$2==n && $4 ~ /^online/' | grep -q .; }
cluster_exists() { pg_lsclusters -h 2>/dev/null | awk -v n="$1" '$2==n' | grep -q .; }

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
