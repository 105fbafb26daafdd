# tests/sql/lib/sessions.sh -- helpers for the shell tests that run several psql sessions at once. Source it.
# Needs PGDATABASE (and PGHOST/PGPORT/PGUSER) in the environment, as tests/sql/run.sh provides.
#
#   gate_close                      a controller session takes the gate lock
#   session_start NAME "SQL"        (repeat) a psql connects, opens a transaction, queues on the gate
#   gate_open N                     waits until N sessions queue on the gate, then releases them all at once
#   session_wait_all                waits for them; fails if one failed
#
# The gate replaces a wall-clock barrier: 32 psql processes need about 2 s just to connect on a small machine, and
# a fixed sleep is either too long or sometimes too short.

SESSION_DIR=$(mktemp -d)
SESSION_PIDS=()
SESSION_NAMES=()
GATE_KEY=4242   # a session-level advisory lock key of its own, not the registry writer lock
trap 'session_kill_all; rm -rf "$SESSION_DIR"' EXIT

# q SQL: run SQL (several statements: only the last result is printed), unaligned, without headers; an error stops
# the test.
q() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# gate_close: start the controller session and take the gate lock in it.
gate_close() {
	local line
	coproc GATE { psql -X -q -A -t -v ON_ERROR_STOP=1 2>&1; }
	printf 'SELECT %s FROM (SELECT pg_advisory_lock(%s)) AS l;\n' "'closed'" "$GATE_KEY" >&"${GATE[1]}"
	read -r -t 20 line <&"${GATE[0]}" || true
	[ "$line" = closed ] || { echo "gate_close: controller said '$line'"; return 1; }
}

# gate_open N: wait (at most 30 s) until N sessions wait for the gate lock, then release it and end the controller.
gate_open() {
	local n=$1 waiting i
	for i in $(seq 1 300); do
		waiting=$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
		             AND objsubid = 1 AND classid = 0 AND objid = $GATE_KEY")
		[ "$waiting" -ge "$n" ] && break
		sleep 0.1
	done
	[ "$waiting" -ge "$n" ] || { echo "gate_open: only $waiting of $n sessions arrived"; return 1; }
	printf 'SELECT pg_advisory_unlock(%s);\n\\q\n' "$GATE_KEY" >&"${GATE[1]}"
	eval "exec ${GATE[1]}>&-"   # close the controller's stdin: psql ends
	# bash unsets GATE_PID as soon as it reaps the coprocess, which may already have happened.
	[ -z "${GATE_PID:-}" ] || wait "$GATE_PID" 2>/dev/null || true
}

# session_start NAME SQL: start psql in the background: it connects, opens a transaction, waits for the gate, runs
# SQL, commits. Output goes to $SESSION_DIR/NAME.out; the lines "start <time>" and "end <time>" frame the work.
# "end" is read just before COMMIT, while the session still holds its locks: for sessions that wait for one
# another's locks the order of their end times is the order of their commits (taken after COMMIT, a loaded
# machine could delay one client's next statement past another's commit).
session_start() {
	local name=$1 sql=$2
	psql -X -q -A -t -v ON_ERROR_STOP=1 >"$SESSION_DIR/$name.out" 2>&1 <<SQL &
BEGIN;
SELECT 'gate ' || pg_advisory_lock_shared($GATE_KEY)::text;
SELECT 'start ' || extract(epoch FROM clock_timestamp());
$sql
SELECT 'end ' || extract(epoch FROM clock_timestamp());
COMMIT;
SQL
	SESSION_PIDS+=("$!")
	SESSION_NAMES+=("$name")
}

# session_wait_all: wait for every started session; print the output of each that failed; return 1 if any did.
session_wait_all() {
	local i rc failed=0
	for i in "${!SESSION_PIDS[@]}"; do
		rc=0
		wait "${SESSION_PIDS[i]}" || rc=$?
		if [ "$rc" -ne 0 ] || grep -q 'ERROR' "$SESSION_DIR/${SESSION_NAMES[i]}.out"; then
			echo "session ${SESSION_NAMES[i]} failed (exit $rc):"
			sed 's/^/    /' "$SESSION_DIR/${SESSION_NAMES[i]}.out"
			failed=1
		fi
	done
	SESSION_PIDS=()
	SESSION_NAMES=()
	return "$failed"
}

# Stop sessions still running (after a failed check), by the PIDs we started.
session_kill_all() {
	local pid
	for pid in "${SESSION_PIDS[@]}" ${GATE_PID:-}; do
		kill "$pid" 2>/dev/null
	done
}
