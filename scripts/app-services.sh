#!/usr/bin/env bash
# Test servers for the app's integration tests, on loopback and non-standard
# ports, each stopped by the PID in its own pidfile (never by name):
#   PostgreSQL primary   127.0.0.1:55432  (wal_level=replica)
#   PostgreSQL replica   127.0.0.1:55433  (pg_basebackup -R -X stream, hot standby)
#   Redis                127.0.0.1:56379  (AUTH token, nothing persisted)
# HAProxy (used by the drain test) is only installed here; the test runs its own.
#
# Usage: scripts/app-services.sh start|stop|clean|env|status
#                                |stop-replica|start-replica|stop-redis|start-redis
# State lives in $SCALESTACK_TEST_DIR (default /tmp/scalestack-test).
# Run as root on a fresh Debian machine it installs what is missing with apt-get;
# PostgreSQL commands then run as the postgres user through runuser.
set -euo pipefail

STATE=${SCALESTACK_TEST_DIR:-/tmp/scalestack-test}
PG_PORT=${SCALESTACK_PG_PORT:-55432}
PG_REPLICA_PORT=${SCALESTACK_PG_REPLICA_PORT:-55433}
REDIS_PORT=${SCALESTACK_REDIS_PORT:-56379}
APP_DB=scalestack
APP_USER=app
APP_PASSWORD=app-test-password   # test-only secrets, for these local servers
REDIS_TOKEN=redis-test-token
PRIMARY=$STATE/pg-primary
REPLICA=$STATE/pg-replica
SOCK=$STATE/sock
LOGS=$STATE/logs
SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

log() { echo "app-services: $*" >&2; }
die() { log "$*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# as_pg runs a PostgreSQL command as the postgres user when we are root.
as_pg() {
	if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_install() {
	is_root || die "missing $*; install them (as root: apt-get install $*)"
	if [ -z "${APT_UPDATED:-}" ]; then
		log "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		APT_UPDATED=1
	fi
	log "installing $*"
	# policy-rc.d keeps the packages from starting their own servers on the standard ports.
	local rc=/usr/sbin/policy-rc.d created=
	if [ ! -e $rc ]; then printf '#!/bin/sh\nexit 101\n' >$rc; chmod +x $rc; created=1; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
	if [ -n "$created" ]; then rm -f $rc; fi
}

pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[ -n "$d" ] && echo "$d"
}

ensure_installed() {
	local missing=()
	[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/pg_basebackup" ] || missing+=(postgresql postgresql-client)
	command -v redis-server >/dev/null || missing+=(redis-server)
	command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
	if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
	PGBIN=$(pg_bin) || die "no PostgreSQL binaries under /usr/lib/postgresql"
	if is_root; then id postgres >/dev/null 2>&1 || die "no postgres user"; fi
}

pid_of() { # pidfile -> pid if the process is alive
	local f=$1 pid
	[ -f "$f" ] || return 1
	pid=$(head -n1 "$f" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop_pid() { # name pidfile signal
	local name=$1 f=$2 sig=$3 pid
	if ! pid=$(pid_of "$f"); then log "$name not running"; return 0; fi
	log "stopping $name (pid $pid)"
	kill "-$sig" "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || { log "$name stopped"; return 0; }
		sleep 0.1
	done
	log "$name did not stop in 30s; sending KILL to pid $pid"
	kill -KILL "$pid" 2>/dev/null || true
}

wait_pg() { # port
	for _ in $(seq 1 100); do
		"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$1" && return 0
		sleep 0.1
	done
	die "PostgreSQL on port $1 not ready"
}

psql_admin() { # port sql...
	local port=$1; shift
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

start_primary() {
	if pid_of "$PRIMARY/postmaster.pid" >/dev/null; then log "primary already running"; return; fi
	if [ ! -f "$PRIMARY/PG_VERSION" ]; then
		log "initdb $PRIMARY"
		mkdir -p "$PRIMARY" && chown_pg "$PRIMARY" && chmod 700 "$PRIMARY"
		as_pg "$PGBIN/initdb" -D "$PRIMARY" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
		cat >>"$PRIMARY/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
max_connections = 200
fsync = off
full_page_writes = off
CONF
		# The app's role logs in with a password (DATABASE_PASSWORD); the
		# postgres superuser (tests' control connections, replication) is trusted on loopback.
		cat >"$PRIMARY/pg_hba.conf" <<HBA
local all         all                  trust
host  all         $APP_USER 127.0.0.1/32 scram-sha-256
host  all         postgres  127.0.0.1/32 trust
host  replication postgres  127.0.0.1/32 trust
HBA
		chown_pg "$PRIMARY"
		FRESH_PRIMARY=1
	fi
	log "starting primary on 127.0.0.1:$PG_PORT"
	as_pg "$PGBIN/pg_ctl" -D "$PRIMARY" -l "$LOGS/pg-primary.log" -w -t 60 start >/dev/null
	wait_pg "$PG_PORT"
	if [ -n "${FRESH_PRIMARY:-}" ]; then
		psql_admin "$PG_PORT" -c "CREATE ROLE $APP_USER LOGIN PASSWORD '$APP_PASSWORD'" \
			-c "CREATE DATABASE $APP_DB OWNER $APP_USER"
	fi
}

start_replica() {
	if pid_of "$REPLICA/postmaster.pid" >/dev/null; then log "replica already running"; return; fi
	if [ ! -f "$REPLICA/PG_VERSION" ]; then
		log "pg_basebackup -R -X stream into $REPLICA"
		mkdir -p "$REPLICA" && chown_pg "$REPLICA" && chmod 700 "$REPLICA"
		as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$REPLICA" -R -X stream -c fast
		echo "port = $PG_REPLICA_PORT" >>"$REPLICA/postgresql.auto.conf"
		chown_pg "$REPLICA"
	fi
	log "starting replica on 127.0.0.1:$PG_REPLICA_PORT"
	as_pg "$PGBIN/pg_ctl" -D "$REPLICA" -l "$LOGS/pg-replica.log" -w -t 60 start >/dev/null
	wait_pg "$PG_REPLICA_PORT"
}

start_redis() {
	if pid_of "$STATE/redis.pid" >/dev/null; then log "redis already running"; return; fi
	log "starting redis on 127.0.0.1:$REDIS_PORT"
	mkdir -p "$STATE/redis"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --requirepass "$REDIS_TOKEN" \
		--save '' --appendonly no --dir "$STATE/redis" --daemonize yes \
		--pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
	for _ in $(seq 1 50); do
		redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_TOKEN" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	die "redis not ready"
}

chown_pg() { if is_root; then chown -R postgres:postgres "$@"; fi; }

prepare_state() {
	mkdir -p "$STATE" "$SOCK" "$LOGS"
	chmod 755 "$STATE"
	chown_pg "$SOCK" "$LOGS"
}

# PostgreSQL: SIGINT is the "fast" shutdown (roll back, close, checkpoint).
stop_primary() { stop_pid "primary" "$PRIMARY/postmaster.pid" INT; }
stop_replica() { stop_pid "replica" "$REPLICA/postmaster.pid" INT; }
stop_redis() { stop_pid "redis" "$STATE/redis.pid" TERM; }

print_env() {
	cat <<ENV
export TEST_DATABASE_WRITER_URL='postgres://$APP_USER@127.0.0.1:$PG_PORT/$APP_DB?sslmode=disable'
export TEST_DATABASE_READER_URLS='postgres://$APP_USER@127.0.0.1:$PG_REPLICA_PORT/$APP_DB?sslmode=disable'
export TEST_DATABASE_PASSWORD='$APP_PASSWORD'
export TEST_DATABASE_ADMIN_PRIMARY_URL='postgres://postgres@127.0.0.1:$PG_PORT/$APP_DB?sslmode=disable'
export TEST_DATABASE_ADMIN_REPLICA_URL='postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/$APP_DB?sslmode=disable'
export TEST_REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'
export TEST_REDIS_AUTH_TOKEN='$REDIS_TOKEN'
export TEST_SERVICES_SCRIPT='$SCRIPT'
export TEST_HAPROXY_BIN='$(command -v haproxy || echo /usr/sbin/haproxy)'
ENV
}

cmd=${1:-}
case "$cmd" in
start)
	ensure_installed
	prepare_state
	start_primary
	start_replica
	start_redis
	log "all services up (state in $STATE)"
	;;
stop)
	stop_redis
	stop_replica
	stop_primary
	;;
clean)
	stop_redis
	stop_replica
	stop_primary
	rm -rf "$STATE"
	log "removed $STATE"
	;;
env) print_env ;;
status)
	for p in "primary:$PRIMARY/postmaster.pid" "replica:$REPLICA/postmaster.pid" "redis:$STATE/redis.pid"; do
		if pid=$(pid_of "${p#*:}"); then echo "${p%%:*} running (pid $pid)"; else echo "${p%%:*} stopped"; fi
	done
	;;
stop-replica) stop_replica ;;
start-replica) PGBIN=$(pg_bin); start_replica ;;
stop-redis) stop_redis ;;
start-redis) start_redis ;;
*)
	echo "usage: $0 start|stop|clean|env|status|stop-replica|start-replica|stop-redis|start-redis" >&2
	exit 2
	;;
esac
