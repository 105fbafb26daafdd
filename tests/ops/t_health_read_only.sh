#!/usr/bin/env bash
# t_health_read_only: /healthz tells a load balancer when the responder's
# PostgreSQL node can no longer take writes (a failed primary brought back
# as a standby, or a read-only session), not only when it is down.
#   - a stack: GET /healthz is 200 {"status":"ok","database":"up"};
#   - ALTER DATABASE ... SET default_transaction_read_only = on, SIGHUP (the
#     new workers open new sessions): 503 {"status":"degraded","database":"read-only"},
#     and a POST is refused, which is what the 503 warns of;
#   - RESET, SIGHUP: 200 "up" again.
# (pg_is_in_recovery(), the standby case, is the same query's other half; the
# failover test of tests/faults runs a real standby.)
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"
ops_need_cmd nginx nginx-light
ops_need_cmd curl curl
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"

trap 'stack_stop "$dir/stack" >/dev/null 2>&1' EXIT
trap 'exit 143' TERM INT
mkdir -p "$dir/stack"
stack_start "$dir/stack" >"$dir/stack.log" 2>&1 || { sed 's/^/# /' "$dir/stack.log"; ops_fail "the stack did not start"; }
pid=$(cat "$dir/stack/imagereg.pid")

# health EXPECTED_CODE EXPECTED_DATABASE: polls up to 10 s (workers are being replaced).
health() {
	local i code
	for i in $(seq 1 50); do
		code=$(ops_get "$IMAGEREG_URL/healthz" "$dir/health.json")
		if [ "$code" = "$1" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d.get("database") != sys.argv[2] or d.get("status") != ("ok" if sys.argv[3] == "200" else "degraded"))' \
			"$dir/health.json" "$2" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	ops_fail "GET /healthz: expected $1 database=$2, got $code $(head -c 200 "$dir/health.json")"
}

health 200 up
ops_note "writable primary: 200 up"
psql -X -q -v ON_ERROR_STOP=1 -c "ALTER DATABASE imagereg SET default_transaction_read_only = on" || ops_fail "ALTER DATABASE failed"
kill -HUP "$pid"
health 503 read-only
code=$(ops_get "$IMAGEREG_URL/openapi/system/registry" "$dir/post.json" -X POST -H "Authorization: Bearer $IMAGEREG_TOKEN" \
	-d '{"address":"https://ro.example.com","provider":"native","namespace":"ro"}')
[ "$code" != 200 ] || ops_fail "a POST succeeded on the read-only node that /healthz called read-only"
ops_note "read-only sessions: 503 read-only, and a POST is refused ($code)"
# The database default now applies to this session too: override it for this one.
PGOPTIONS="-c default_transaction_read_only=off" psql -X -q -v ON_ERROR_STOP=1 -c "ALTER DATABASE imagereg RESET default_transaction_read_only" || ops_fail "ALTER DATABASE RESET failed"
kill -HUP "$pid"
health 200 up
ops_note "reset: 200 up again"
exit 0
