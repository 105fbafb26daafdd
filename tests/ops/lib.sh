# tests/ops/lib.sh - helpers of the deployment tests (tests/ops/t_*.sh).  Source it.
#
# Each test runs as `bash tests/ops/t_NAME.sh DIR`, DIR an empty directory under /tmp
# (mode 0755) that tests/ops/run.sh made for it and cleans up after it.  A test
# exits 0 when it passed; otherwise it ends with `ops_fail REASON`, which prints
# `FAIL: REASON` (run.sh shows REASON on the `not ok` line).  Lines starting with
# `# ` are notes, shown by run.sh when the test fails or with VERBOSE=1.
#
# Every process a test starts in the background is recorded with `ops_track PID`
# in DIR/tracked as "PID STARTTIME" (field 22 of /proc/PID/stat), so that it can
# be stopped by PID and never a recycled PID: ops_stop_tracked DIR (used by the
# tests' own EXIT traps and again by run.sh).  nginx and the stack record theirs
# in pid files (DIR/**/nginx.pid, imagereg.pid, postmaster.pid.copy).

OPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/stack.sh
. "$OPS_ROOT/tests/lib/stack.sh"

# The binaries under test: the tree's, or IMAGEREG_FCGI / IMAGEREG_CLI (as stack.sh).
OPS_FCGI=${IMAGEREG_FCGI:-$OPS_ROOT/cgi/imagereg-fcgi}

ops_note() { printf '# %s\n' "$*"; }
ops_fail() {
	printf 'FAIL: %s\n' "$*"
	exit 1
}

# ops_need_cmd COMMAND PACKAGE: installs the Debian PACKAGE when COMMAND is
# missing (as root, with apt-get); fails the test when it is still missing.
ops_need_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		ops_note "installing $2 for $1"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 &&
				apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1; }
	fi
	command -v "$1" >/dev/null 2>&1 || ops_fail "$1 is missing (Debian package $2) and could not be installed"
}

# ops_need_dir: the DIR argument of the test, made absolute; a fresh one when run by hand.
ops_need_dir() {
	local dir=${1:-}
	if [ -z "$dir" ]; then
		dir=$(mktemp -d /tmp/imagereg-ops.XXXXXX) || ops_fail "mktemp failed"
		ops_note "work directory $dir (not removed)" >&2
	fi
	mkdir -p "$dir" && chmod 0755 "$dir" || ops_fail "cannot use $dir"
	(cd "$dir" && pwd)
}

# ops_alive PID: true while PID runs.  A zombie counts as gone: where PID 1 does
# not reap orphans (containers), a stopped daemonized process stays <defunct>.
ops_alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# ops_starttime PID: the start time of PID in clock ticks (field 22 of /proc/PID/stat;
# the command name in field 2 may hold spaces, so count from its closing paren).
ops_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	# After the name: state is field 3, so start time (field 22) is the 20th here.
	printf '%s\n' "${20}"
}

# ops_track DIR PID: record PID for ops_stop_tracked.
ops_track() {
	local st
	st=$(ops_starttime "$2") || return 0
	printf '%s %s\n' "$2" "$st" >>"$1/tracked"
}

# ops_same PID STARTTIME: true when PID is still the process that was recorded.
ops_same() {
	ops_alive "$1" && [ "$(ops_starttime "$1")" = "$2" ]
}

# ops_wait_gone SECONDS PID...: true when every PID has exited within SECONDS.
ops_wait_gone() {
	local limit=$(($1 * 10)) i=0 p left
	shift
	while :; do
		left=0
		for p in "$@"; do
			ops_alive "$p" && left=1
		done
		[ "$left" -eq 0 ] && return 0
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || return 1
		sleep 0.1
	done
}

# ops_stop_tracked DIR: SIGTERM to every recorded process still running (and
# still the same process), SIGKILL to what is left after 15 s.  Safe to repeat.
ops_stop_tracked() {
	local dir=$1 pid st live=()
	[ -f "$dir/tracked" ] || return 0
	while read -r pid st; do
		if ops_same "$pid" "$st"; then
			kill -TERM "$pid" 2>/dev/null
			live+=("$pid")
		fi
	done <"$dir/tracked"
	[ ${#live[@]} -eq 0 ] && return 0
	ops_wait_gone 15 "${live[@]}" && return 0
	while read -r pid st; do
		ops_same "$pid" "$st" && kill -KILL "$pid" 2>/dev/null
	done <"$dir/tracked"
	ops_wait_gone 5 "${live[@]}"
}

# ops_children PID: the PIDs whose parent is PID, zombies left out (one per line).
ops_children() {
	local parent=$1 f line pid
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		pid=${line%% *}
		line=${line##*) }
		# shellcheck disable=SC2086
		set -- $line
		# After the name: $1 is the state, $2 the parent.
		[ "${2:-}" = "$parent" ] && [ "$1" != Z ] && printf '%s\n' "$pid"
	done
}

# ops_socket_inode PATH: the inode of the listening unix socket bound to PATH (/proc/net/unix).
ops_socket_inode() {
	awk -v p="$1" '$8 == p && $6 == "01" { print $7; exit }' /proc/net/unix
}

# ops_nginx_start DIR SOCKET: an nginx of the test's own in DIR, made from the
# stack's generated nginx.conf ($IMAGEREG_LOGS/nginx.conf) with the responder
# socket replaced by SOCKET, a free port, and every path moved from the stack's
# directory to DIR.  Exports OPS_URL.  The stack must be running (stack_start).
ops_nginx_start() {
	local dir=$1 sock=$2 port conf
	port=$(pg_free_port) || return 1
	conf="$dir/nginx.conf"
	cp /etc/nginx/fastcgi_params "$IMAGEREG_LOGS/imagereg-location.conf" "$dir/" || return 1
	# The socket line first (it lives in the stack's directory), then the port, then the rest.
	sed -e "s|server unix:$IMAGEREG_LOGS/imagereg.sock;|server unix:$sock;|" \
		-e "s|listen 127.0.0.1:$IMAGEREG_PORT;|listen 127.0.0.1:$port;|" \
		-e "s|$IMAGEREG_LOGS/|$dir/|g" \
		"$IMAGEREG_LOGS/nginx.conf" >"$conf" || return 1
	if grep -q -- "$IMAGEREG_LOGS/" "$conf" || ! grep -q -- "server unix:$sock;" "$conf" ||
		! grep -q -- "listen 127.0.0.1:$port;" "$conf"; then
		echo "ops_nginx_start: could not rewrite $IMAGEREG_LOGS/nginx.conf for $sock" >&2
		return 1
	fi
	nginx -p "$dir" -c "$conf" -e "$dir/nginx-error.log" </dev/null >/dev/null 2>&1 ||
		{ cat "$dir/nginx-error.log" >&2; return 1; }
	stack_wait 10 test -s "$dir/nginx.pid" || return 1
	stack_wait 10 curl -s -o /dev/null "http://127.0.0.1:$port/" || return 1
	export OPS_URL="http://127.0.0.1:$port"
}

# ops_nginx_stop DIR: graceful stop of the nginx started in DIR, by its pid file.
ops_nginx_stop() {
	local pid
	pid=$(cat "$1/nginx.pid" 2>/dev/null) || return 0
	kill -QUIT "$pid" 2>/dev/null
	ops_wait_gone 10 "$pid" || { kill -KILL "$pid" 2>/dev/null; ops_wait_gone 5 "$pid"; }
}

# ops_get URL OUTFILE [curl args...]: GET; prints the status code, the body goes to OUTFILE.
ops_get() {
	local url=$1 out=$2
	shift 2
	curl -s --max-time 10 -o "$out" -w '%{http_code}' "$@" "$url"
}

# ops_json_list FILE: true when FILE holds a JSON array.
ops_json_list() {
	python3 -c 'import json, sys; sys.exit(0 if isinstance(json.load(open(sys.argv[1])), list) else 1)' "$1" 2>/dev/null
}

# ops_json_object FILE: true when FILE holds a JSON object.
ops_json_object() {
	python3 -c 'import json, sys; sys.exit(0 if isinstance(json.load(open(sys.argv[1])), dict) else 1)' "$1" 2>/dev/null
}

# ops_new_key FILE: a fresh at-rest key (64 hex characters), mode 0600.
ops_new_key() {
	(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$1")
}
