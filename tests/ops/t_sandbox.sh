#!/usr/bin/env bash
# t_sandbox: the responder lives within the sandbox nginx/systemd/imagereg.service.in puts
# it in, on every path a deployment exercises.  systemd is not PID 1 here, so
# the sandbox cannot be applied; instead the socket-activated responder runs
# under strace -f while it serves every kind of request (list, create with
# credentials and a PEM certificate, read, update, delete, /healthz, a CORS
# preflight, a 404), reloads on SIGHUP and stops on SIGTERM, and the trace is
# held against the unit:
#   - SystemCallFilter=: every system call made is in the set that
#     `systemd-analyze syscall-filter` gives for the unit's filter groups
#     (a call outside it would kill the process with EPERM under systemd);
#   - RestrictAddressFamilies=: every socket() is of a listed family;
#   - MemoryDenyWriteExecute=yes: no mapping is made writable and executable,
#     and no mprotect() adds PROT_EXEC.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"

ops_need_cmd strace strace
ops_need_cmd systemd-analyze systemd
ops_need_cmd systemd-socket-activate systemd
ops_need_cmd nginx nginx-light
ops_need_cmd curl curl
ops_need_cmd openssl openssl
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"
# The unit as make install writes it for PREFIX=/usr/local (rendered from its template).
make -s render RENDER_DIR="$dir/units" RENDER_FILES=nginx/systemd/imagereg.service.in PREFIX=/usr/local ||
	ops_fail "make render failed"
service=$dir/units/imagereg.service

cleanup() {
	ops_nginx_stop "$dir/nginx"
	ops_stop_tracked "$dir"
	stack_stop "$dir/stack" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 143' TERM INT

filter=$(sed -n 's/^SystemCallFilter=//p' "$service")
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$service")
grep -qx 'MemoryDenyWriteExecute=yes' "$service" || ops_fail "$service: no MemoryDenyWriteExecute=yes"
[ -n "$filter" ] || ops_fail "$service has no SystemCallFilter="
[ -n "$families" ] || ops_fail "$service has no RestrictAddressFamilies="
# The allowed calls: each group of the filter expanded, nested groups too.
# `systemd-analyze syscall-filter @G` prints @G itself first, then its calls and
# the groups it includes (by name only): expand each group once.
: >"$dir/groups-seen"
expand() {
	local item sub
	for item in "$@"; do
		case $item in
		@*)
			grep -qxF -- "$item" "$dir/groups-seen" && continue
			echo "$item" >>"$dir/groups-seen"
			for sub in $(systemd-analyze syscall-filter --no-pager "$item" | sed -e 's/#.*//' -e '1d'); do
				expand "$sub"
			done
			;;
		*) printf '%s\n' "$item" ;;
		esac
	done
}
# shellcheck disable=SC2086
expand $filter | sort -u >"$dir/allowed"
[ "$(wc -l <"$dir/allowed")" -gt 100 ] || ops_fail "systemd-analyze syscall-filter $filter gave $(wc -l <"$dir/allowed") calls"

mkdir -p "$dir/stack" "$dir/nginx"
stack_start "$dir/stack" >"$dir/stack.log" 2>&1 || { sed 's/^/# /' "$dir/stack.log"; ops_fail "the stack did not start"; }
# user: systemd runs the unit as User=imagereg; here root starts it, and
# systemd-socket-activate passes no environment, so the file names the account.
cat >"$dir/imagereg.conf" <<EOF
dsn = $IMAGEREG_DSN
key_file = $IMAGEREG_KEY_FILE
user = ${IMAGEREG_USER:-}
workers = 2
cors_origins = https://console.example.com
generation_file = $dir/generation
EOF
read -r -a start_cmd <<<"$(sed -n 's/^ExecStart=//p' "$service" |
	sed -e "s|/usr/local/sbin/imagereg-fcgi|$OPS_FCGI|g" -e "s|/etc/imagereg/imagereg.conf|$dir/imagereg.conf|g")"

sock="$dir/imagereg.sock"
strace -f -qq -o "$dir/trace" systemd-socket-activate -l "$sock" -- "${start_cmd[@]}" >"$dir/responder.log" 2>&1 </dev/null &
tracer=$!
ops_track "$dir" "$tracer"
stack_wait 10 test -S "$sock" || ops_fail "systemd-socket-activate under strace did not listen on $sock"
ops_nginx_start "$dir/nginx" "$sock" || ops_fail "our nginx did not start"

auth=(-H "Authorization: Bearer $IMAGEREG_TOKEN")
url="$OPS_URL/openapi/system/registry"
expect() {	# expect CODE WHAT curl-args...: one request, its status must be CODE
	local want=$1 what=$2 code
	shift 2
	code=$(ops_get "$1" "$dir/body" "${@:2}")
	[ "$code" = "$want" ] || ops_fail "$what: $code, expected $want: $(head -c 300 "$dir/body")"
}
expect 200 "GET list" "$url" "${auth[@]}"
# The responder is the traced child of strace: systemd-socket-activate exec'd it in its PID.
main=$(ops_children "$tracer" | head -n 1)
[ -n "$main" ] || ops_fail "no responder under strace"
ops_track "$dir" "$main"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=sandbox.example \
	-days 2 -out "$dir/cert.pem" >/dev/null 2>&1 || ops_fail "openssl could not make a certificate"
python3 - "$dir/cert.pem" >"$dir/create.json" <<'EOF'
import json, sys
print(json.dumps({"address": "https://sandbox.example.com", "provider": "harbor", "namespace": "ops",
                  "access_key": "ak", "secret_key": "sk", "enable_tls": True, "tls_cert": open(sys.argv[1]).read()}))
EOF
expect 200 "POST with credentials and a certificate" "$url" "${auth[@]}" -X POST --data-binary "@$dir/create.json"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registry_id"])' "$dir/body") || ops_fail "POST: no registry_id"
expect 200 "GET one" "$url/$id" "${auth[@]}"
expect 200 "PUT" "$url/$id" "${auth[@]}" -X PUT -d '{"address":"https://sandbox.example.com","provider":"harbor","namespace":"ops2","secret_key":"sk2"}'
expect 404 "GET unknown" "$url/0123456789abcdef01234567" "${auth[@]}"
expect 401 "GET without a token" "$url"
expect 204 "CORS preflight" "$url" -X OPTIONS -H 'Origin: https://console.example.com' -H 'Access-Control-Request-Method: POST'
expect 200 "/healthz" "$OPS_URL/healthz"
expect 200 "DELETE" "$url/$id" "${auth[@]}" -X DELETE

kill -HUP "$main"
sleep 1
expect 200 "GET after SIGHUP" "$url" "${auth[@]}"
kill -TERM "$main"
ops_wait_gone 45 "$main" "$tracer" || ops_fail "the responder or strace did not exit after SIGTERM"
ops_note "traced: list, create with credentials and certificate, read, update, 404, 401, preflight, healthz, delete, SIGHUP, SIGTERM"

# strace -f -o: "PID call(args) = ret", calls split by other processes as
# "PID <... call resumed>".  The exec of the responder is in the same PID as the
# socket activator before it: its few calls are counted too (a superset).
sed -E -n -e 's/^[0-9]+ +<\.\.\. ([a-z0-9_]+) resumed>.*/\1/p' -e 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$dir/trace" |
	sort -u >"$dir/used"
[ "$(wc -l <"$dir/used")" -gt 20 ] || ops_fail "the trace holds only $(wc -l <"$dir/used") system calls"
outside=$(comm -23 "$dir/used" "$dir/allowed" | tr '\n' ' ')
[ -z "$outside" ] || ops_fail "system calls outside SystemCallFilter=$filter: $outside"
ops_note "$(wc -l <"$dir/used") distinct system calls, all within SystemCallFilter=$filter"

bad_families=$(grep -oE ' socket\(AF_[A-Z0-9]+' "$dir/trace" | sed 's/.*(//' | sort -u |
	while read -r fam; do
		case " $families " in *" $fam "*) ;; *) printf '%s ' "$fam" ;; esac
	done)
[ -z "$bad_families" ] || ops_fail "sockets of families outside RestrictAddressFamilies=$families: $bad_families"

wx=$(grep -E ' (mmap|mprotect|pkey_mprotect)\(' "$dir/trace" | grep -E 'PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE|PROT_READ\|PROT_WRITE\|PROT_EXEC' | head -n 1)
[ -z "$wx" ] || ops_fail "MemoryDenyWriteExecute: a writable and executable mapping: $wx"
# mprotect() that adds PROT_EXEC is refused too.  (The dynamic loader maps its
# executable segments with mmap, never mprotect, so any is ours.)
mx=$(grep -E ' (mprotect|pkey_mprotect)\([^)]*PROT_EXEC' "$dir/trace" | head -n 1)
[ -z "$mx" ] || ops_fail "MemoryDenyWriteExecute: mprotect adding PROT_EXEC: $mx"
ops_note "sockets only of $families; no writable+executable memory"
exit 0
