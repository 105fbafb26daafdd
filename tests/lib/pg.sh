# tests/lib/pg.sh -- start and stop a throwaway PostgreSQL cluster for tests. Source it, do not run it.
#
#   . tests/lib/pg.sh
#   dir=$(mktemp -d /tmp/imagereg-pg.XXXXXX)
#   pg_start "$dir" || exit 1       # exports PGHOST PGPORT PGUSER PGDATABASE IMAGEREG_PG_PID
#   ...                             # psql, createdb, tests/sql/run.sh, ...
#   pg_stop "$dir"; rm -rf "$dir"
#
# DIR must be an empty directory that the postgres OS user can reach: make it with mktemp -d under /tmp, not under
# the repository (which may sit below /root or /work, unreadable for postgres). When run as root, pg_start chowns DIR
# to postgres and runs initdb/pg_ctl through `runuser -u postgres --` because the server refuses to run as root;
# as any other user it runs them directly. The server listens only on a unix socket in DIR (listen_addresses='');
# the port still names the socket file, and pg_start picks one that is free on loopback too, so a later switch to
# TCP or a second cluster started the same way cannot collide. Durability is off (fsync, synchronous_commit,
# full_page_writes): the data is thrown away.
#
# Environment read: PG_BINDIR (default: `pg_config --bindir`, else /usr/lib/postgresql/15/bin);
# PG_DATA_TEMPLATE: a data directory that initdb made with the arguments below (pg_data_template makes one): copied
# instead of running initdb again (about 1.1 CPU-seconds each on 2 cores; make test starts some twenty clusters).
# pg_stop stops the server (pg_ctl stop -m fast, then a TERM to the recorded postmaster PID if pg_ctl failed);
# it never kills by name and never removes DIR: the caller removes it, after reading DIR/server.log if it wants.

pg_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		printf '%s\n' "$PG_BINDIR"
	elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
		pg_config --bindir
	else
		printf '%s\n' /usr/lib/postgresql/15/bin
	fi
}

# Run a command as the cluster owner: postgres when we are root, ourselves otherwise.
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Print a TCP port that nothing listens on at 127.0.0.1, starting from a random one in 20000..32767: below the
# kernel's ephemeral range (32768..60999), where an outgoing connection could hold the port we then try to bind.
pg_free_port() {
	local port tries=0
	port=$((20000 + RANDOM % 12768))
	while [ "$tries" -lt 200 ]; do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
		port=$((port + 1))
		[ "$port" -lt 32768 ] || port=20000
		tries=$((tries + 1))
	done
	echo "pg_free_port: no free port found" >&2
	return 1
}

# pg_initdb BINDIR DATADIR: the one initdb of every test cluster (trust, user postgres, UTF8, C locale).
pg_initdb() {
	pg_as_owner "$1/initdb" -D "$2" --auth=trust --username=postgres --encoding=UTF8 --locale=C --no-sync
}

# pg_data_template DIR: initdb DIR/data once, for PG_DATA_TEMPLATE; prints its path. DIR must be one that the
# postgres user can write (see pg_start).
pg_data_template() {
	local dir=${1:?usage: pg_data_template DIR}
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir" || return 1
	fi
	pg_initdb "$(pg_bindir)" "$dir/data" >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
	printf '%s\n' "$dir/data"
}

# pg_start DIR: initdb DIR/data (or copy PG_DATA_TEMPLATE), start the server with its socket in DIR, export PGHOST/PGPORT/PGUSER/PGDATABASE
# and IMAGEREG_PG_PID (the postmaster PID, also written to DIR/postmaster.pid.copy). Returns non-zero on failure,
# after printing the end of DIR/server.log.
pg_start() {
	local dir=${1:?usage: pg_start DIR} bindir port pid
	case $dir in
	/*) ;;
	*) dir=$(cd "$dir" 2>/dev/null && pwd) || { echo "pg_start: $1: no such directory" >&2; return 1; } ;;
	esac
	bindir=$(pg_bindir)
	if [ ! -x "$bindir/initdb" ]; then
		echo "pg_start: no initdb in $bindir (set PG_BINDIR)" >&2
		return 1
	fi
	if [ -e "$dir/data" ]; then
		echo "pg_start: $dir/data already exists; give pg_start a fresh directory" >&2
		return 1
	fi
	mkdir -p "$dir" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir" || return 1
		# 0711: the responder's workers (an unprivileged account, not
		# postgres) reach the socket here; the data directory stays 0700.
		chmod 0711 "$dir" || return 1
	fi
	if ! pg_as_owner test -w "$dir"; then
		echo "pg_start: the postgres user cannot write $dir (is a parent directory private? use mktemp -d under /tmp)" >&2
		return 1
	fi
	port=$(pg_free_port) || return 1

	if [ -n "${PG_DATA_TEMPLATE:-}" ] && [ -f "$PG_DATA_TEMPLATE/PG_VERSION" ]; then
		if ! pg_as_owner cp -a "$PG_DATA_TEMPLATE" "$dir/data"; then
			echo "pg_start: cannot copy $PG_DATA_TEMPLATE" >&2
			return 1
		fi
	elif ! pg_initdb "$bindir" "$dir/data" >"$dir/initdb.log" 2>&1; then
		echo "pg_start: initdb failed:" >&2
		tail -n 20 "$dir/initdb.log" >&2
		return 1
	fi
	# Appended settings win over the defaults above them in postgresql.conf.
	pg_as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# --- throwaway test cluster (tests/lib/pg.sh) ---
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
logging_collector = off
log_min_messages = warning
log_min_error_statement = error
EOF
	if ! pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
		echo "pg_start: server did not start:" >&2
		tail -n 20 "$dir/server.log" >&2
		return 1
	fi
	pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
	case $pid in
	'' | *[!0-9]*)
		echo "pg_start: cannot read the postmaster PID from $dir/data/postmaster.pid" >&2
		return 1
		;;
	esac
	printf '%s\n' "$pid" >"$dir/postmaster.pid.copy"
	export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres IMAGEREG_PG_PID="$pid"
	return 0
}

# pg_pid_alive PID: true while PID runs. A zombie counts as gone: it has exited, and where PID 1 does not reap
# orphans (some containers), a stopped postmaster stays <defunct> for good.
pg_pid_alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# pg_stop DIR: stop the cluster that pg_start DIR started. Safe to call twice or on a cluster that failed to start.
pg_stop() {
	local dir=${1:?usage: pg_stop DIR} bindir pid
	bindir=$(pg_bindir)
	[ -f "$dir/postmaster.pid.copy" ] || [ -f "$dir/data/postmaster.pid" ] || return 0
	pid=$(cat "$dir/postmaster.pid.copy" 2>/dev/null)
	if pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
		rm -f "$dir/postmaster.pid.copy"
		return 0
	fi
	# pg_ctl could not stop it (or it was not running). Signal only the PID we recorded, and only if it is still
	# a postgres postmaster for this data directory.
	case $pid in
	'' | *[!0-9]*) return 0 ;;
	esac
	if pg_pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$dir/data"; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 50); do
			pg_pid_alive "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$dir/postmaster.pid.copy"
	if pg_pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$dir/data"; then
		echo "pg_stop: postmaster $pid is still running" >&2
		return 1
	fi
	return 0
}
