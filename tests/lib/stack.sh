# tests/lib/stack.sh - the whole stack on loopback: PostgreSQL, responder, nginx.
# Source it.  Used by tests/run.sh, tests/stack-up.sh and nginx/launcher/run.sh.
#
#   stack_start DIR [PORT]   start everything with state under DIR (mktemp -d under /tmp);
#                            exports IMAGEREG_URL, IMAGEREG_PREFIX_URL, IMAGEREG_DSN (the
#                            responder's login, role imagereg in imagereg_app),
#                            IMAGEREG_ADMIN_DSN (the CLI's), IMAGEREG_KEY_FILE,
#                            IMAGEREG_TOKEN / IMAGEREG_READ_TOKEN (a write and a read
#                            token, names in *_NAME), IMAGEREG_LOGS, IMAGEREG_CGI,
#                            IMAGEREG_CLI and the PG* variables.  With IMAGEREG_DSN
#                            already set, uses that database (as admin too) instead of
#                            starting a cluster.
#   stack_stop DIR           stop what stack_start DIR started, by PID.
#
# IMAGEREG_FCGI (default cgi/imagereg-fcgi), IMAGEREG_WORKERS (default 4),
# IMAGEREG_USER (as root: default nobody) and IMAGEREG_WRAP (a command prefix such as valgrind) change how the responder runs.

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Started as root, the responder serves only with an account for its workers
# (user =): the tests give it nobody, as a deployment gives it imagereg.  The
# supervisor stays root, so root-only keys and logs keep working.
if [ "$(id -u)" -eq 0 ]; then
	export IMAGEREG_USER=${IMAGEREG_USER:-nobody}
fi
. "$STACK_ROOT/tests/lib/pg.sh"

stack_wait() {	# stack_wait SECONDS COMMAND...: poll until COMMAND succeeds
	local limit=$(( $1 * 10 )) i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || return 1
		sleep 0.1
	done
}

# The networks the stack's registry checks may reach: the responder's and the
# CLI line `make run` prints use the same (a caller's own value wins, even "").
stack_allow_networks() {
	printf '%s' "${IMAGEREG_CHECK_ALLOW_NETWORKS-127.0.0.0/8}"
}

# Starts the responder on DIR/imagereg.sock; its log is DIR/imagereg.log.
stack_start_responder() {
	local dir=$1 fcgi=${IMAGEREG_FCGI:-$STACK_ROOT/cgi/imagereg-fcgi}
	rm -f "$dir/imagereg.sock"
	# The registry-check tests run their fake registries on loopback, which the
	# check's SSRF guard refuses unless allowed (a caller's own value wins, even "").
	# shellcheck disable=SC2086
	IMAGEREG_CHECK_ALLOW_NETWORKS=$(stack_allow_networks) \
		${IMAGEREG_WRAP:-} "$fcgi" --listen "unix:$dir/imagereg.sock" --workers "${IMAGEREG_WORKERS:-4}" \
		</dev/null >>"$dir/imagereg.log" 2>&1 &
	echo $! >"$dir/imagereg.pid"
	stack_wait 30 test -S "$dir/imagereg.sock" || { echo "stack: responder did not start" >&2; tail "$dir/imagereg.log" >&2; return 1; }
}

# Stops the responder by its PID: SIGTERM, then it exits 0 when workers are done.
stack_stop_responder() {
	local dir=$1 pid
	pid=$(cat "$dir/imagereg.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null && stack_wait 40 bash -c "! kill -0 $pid"
	rm -f "$dir/imagereg.pid"
}

# Starts a cluster that an earlier stack_start created (make run keeps its data).
stack_resume_pg() {
	local pgdir=$1 port
	port=$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$pgdir/data/postgresql.conf" | tail -n 1)
	pg_as_owner "$(pg_bindir)/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 start >/dev/null \
		|| { tail "$pgdir/server.log" >&2; return 1; }
	head -n 1 "$pgdir/data/postmaster.pid" >"$pgdir/postmaster.pid.copy"
	export PGHOST="$pgdir" PGPORT="$port" PGUSER=postgres
}

stack_start() {
	local dir=${1:?usage: stack_start DIR [PORT]} port=${2:-} cli
	dir=$(cd "$dir" && pwd) || return 1
	cli="$STACK_ROOT/cgi/imagereg"
	if [ -z "${IMAGEREG_DSN:-}" ]; then
		chmod 0755 "$dir"
		if [ -d "$dir/pg/data" ]; then
			stack_resume_pg "$dir/pg" || return 1
		else
			mkdir -p "$dir/pg"
			pg_start "$dir/pg" || return 1
			createdb imagereg || return 1
		fi
		export PGDATABASE=imagereg
		# The CLI migrates and manages tokens as the owner; the responder logs
		# in as a role that has only imagereg_app's privileges.
		export IMAGEREG_ADMIN_DSN="host=$PGHOST port=$PGPORT dbname=imagereg user=postgres"
		export IMAGEREG_DSN="host=$PGHOST port=$PGPORT dbname=imagereg user=imagereg"
		stack_app_role=1
	fi
	IMAGEREG_SQL_DIR="$STACK_ROOT/sql" "$cli" migrate >"$dir/migrate.log" 2>&1 \
		|| { cat "$dir/migrate.log" >&2; return 1; }
	if [ -n "${stack_app_role:-}" ]; then
		psql -X -q -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'imagereg') THEN
				CREATE ROLE imagereg LOGIN IN ROLE imagereg_app;
			END IF; END \$\$" || return 1
	fi
	# The counters the workers and the CLI share (generation_file): here, not /run.
	export IMAGEREG_GENERATION_FILE="$dir/generation"
	# The at-rest key: 32 random bytes as hex, readable by its owner only.
	if [ -z "${IMAGEREG_KEY_FILE:-}" ]; then
		export IMAGEREG_KEY_FILE="$dir/imagereg.key"
		[ -s "$IMAGEREG_KEY_FILE" ] || (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$IMAGEREG_KEY_FILE")
	fi
	local stamp
	stamp=$(date +%Y%m%d%H%M%S)-$$
	IMAGEREG_TOKEN=$("$cli" token create "stack-writer-$stamp" --scope write 2>/dev/null) || return 1
	IMAGEREG_READ_TOKEN=$("$cli" token create "stack-reader-$stamp" --scope read 2>/dev/null) || return 1
	export IMAGEREG_TOKEN IMAGEREG_READ_TOKEN
	export IMAGEREG_TOKEN_NAME="stack-writer-$stamp" IMAGEREG_READ_TOKEN_NAME="stack-reader-$stamp"
	stack_start_responder "$dir" || return 1

	cp /etc/nginx/fastcgi_params "$STACK_ROOT/nginx/imagereg-location.conf" "$dir/"
	# A port found free can be taken by another suite before nginx binds it: then another port, a few times.
	local given=$port tries=0
	while :; do
		[ -n "$given" ] || port=$(pg_free_port) || return 1
		sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@SOCKET@|$dir/imagereg.sock|g" \
			-e "s|@USER@|$(id -un)|g" -e "s|@ROOT@|$STACK_ROOT|g" "$STACK_ROOT/nginx/nginx.conf.in" >"$dir/nginx.conf"
		: >"$dir/nginx-error.log"
		nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" </dev/null >/dev/null 2>&1 && break
		tries=$((tries + 1))
		if [ -n "$given" ] || [ "$tries" -ge 5 ] || ! grep -q 'Address already in use' "$dir/nginx-error.log"; then
			echo "stack: nginx did not start" >&2
			cat "$dir/nginx-error.log" >&2
			return 1
		fi
	done
	stack_wait 10 test -s "$dir/nginx.pid" || return 1
	stack_wait 10 curl -s -o /dev/null "http://127.0.0.1:$port/" || return 1
	export IMAGEREG_URL="http://127.0.0.1:$port" IMAGEREG_PREFIX_URL="http://127.0.0.1:$port/imagereg"
	export IMAGEREG_LOGS="$dir" IMAGEREG_CGI="${IMAGEREG_FCGI:-$STACK_ROOT/cgi/imagereg-fcgi}" IMAGEREG_PORT="$port"
	export IMAGEREG_CLI="$cli"
}

stack_stop() {
	local dir=${1:?usage: stack_stop DIR} pid
	pid=$(cat "$dir/nginx.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null \
		&& stack_wait 10 bash -c "! kill -0 $pid"
	stack_stop_responder "$dir"
	[ -d "$dir/pg" ] && pg_stop "$dir/pg"
	return 0
}
