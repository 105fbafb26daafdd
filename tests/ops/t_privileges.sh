#!/usr/bin/env bash
# t_privileges: imagereg-fcgi started as root (this test runs as root).
#   - without user = / --user it refuses to serve, saying how to fix it, and
#     never binds its socket; --user root and an unknown user are refused too;
#   - with --user nobody, socket_owner nobody, socket_group nogroup and
#     socket_mode 0640: the socket has exactly that owner, group and mode,
#     the supervisor stays root and every worker runs as nobody:nogroup with
#     no supplementary group and no way back (real, effective and saved IDs
#     all nobody's, from /proc/PID/status);
#   - bad values are refused by --check-config with the setting named:
#     socket_mode 999, a relative log_file;
#   - log_file: the log goes to the file; after it is moved away, SIGUSR1
#     makes the supervisor reopen it and new workers write to the new file.
#   - --check-config refuses a config file holding a password that everyone
#     may read, naming the chmod that fixes it; 0640 passes.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"
[ "$(id -u)" -eq 0 ] || ops_fail "needs root"
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null || ops_fail "no user nobody or group nogroup"

trap 'ops_stop_tracked "$dir"' EXIT
trap 'exit 143' TERM INT
unset IMAGEREG_USER
ops_new_key "$dir/key"
# No database: the workers start and wait for one; nothing here needs it.
: >"$dir/empty.conf"
run_env=(env -i PATH="$PATH" IMAGEREG_CONFIG="$dir/empty.conf" IMAGEREG_KEY_FILE="$dir/key"
	IMAGEREG_DSN="host=$dir/nopg dbname=x connect_timeout=1" IMAGEREG_GENERATION_FILE="$dir/generation")

# refused ARGS... -- EXPECTED: exits non-zero within 10 s, says EXPECTED, no socket.
refused() {
	local args=() want
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	want=$2
	rm -f "$dir/r.sock"
	timeout 10 "${run_env[@]}" "$OPS_FCGI" --listen "unix:$dir/r.sock" "${args[@]}" >"$dir/r.out" 2>&1 </dev/null
	local rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || ops_fail "${args[*]:-no --user}: exit $rc, expected a refusal"
	grep -q -- "$want" "$dir/r.out" || ops_fail "${args[*]:-no --user}: says '$(head -c 200 "$dir/r.out")', not '$want'"
	[ ! -e "$dir/r.sock" ] || ops_fail "${args[*]:-no --user}: refused but bound its socket"
}
refused -- "refusing to serve as root: set user = ACCOUNT"
refused --user root -- 'user "root" is root'
refused --user no-such-user-here -- 'no such user "no-such-user-here"'
ops_note "root without an account, root as the account, an unknown account: refused, no socket"

sock="$dir/imagereg.sock"
log="$dir/imagereg.log"
"${run_env[@]}" IMAGEREG_SOCKET_OWNER=nobody IMAGEREG_SOCKET_GROUP=nogroup IMAGEREG_SOCKET_MODE=0640 \
	IMAGEREG_LOG_FILE="$log" "$OPS_FCGI" --listen "unix:$sock" --workers 2 --user nobody </dev/null >"$dir/stderr" 2>&1 &
pid=$!
ops_track "$dir" "$pid"
stack_wait 10 test -S "$sock" || ops_fail "no socket: $(cat "$dir/stderr")"
[ "$(stat -c '%U:%G %a' "$sock")" = "nobody:nogroup 640" ] || ops_fail "socket is $(stat -c '%U:%G %a' "$sock"), expected nobody:nogroup 640"
ops_note "socket: nobody:nogroup 0640"

workers() { ops_children "$pid"; }
# Groups: empty, or the one group: initgroups(nobody) left nothing of root's.
stack_wait 10 bash -c "[ \$(ps -o pid= --ppid $pid | wc -l) -eq 2 ]" || ops_fail "the supervisor did not start 2 workers"
uid=$(id -u nobody) gid=$(getent group nogroup | cut -d: -f3)
[ "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$pid/status")" = 0000 ] || ops_fail "the supervisor is not root"
for w in $(workers); do
	ids=$(awk '/^Uid:/ { u = $2 " " $3 " " $4 " " $5 } /^Gid:/ { g = $2 " " $3 " " $4 " " $5 } /^Groups:/ { $1 = ""; s = $0 }
		END { print u "|" g "|" s }' "/proc/$w/status")
	[ "$ids" = "$uid $uid $uid $uid|$gid $gid $gid $gid|" ] && continue
	[ "$ids" = "$uid $uid $uid $uid|$gid $gid $gid $gid| $gid" ] ||
		ops_fail "worker $w: uid|gid|groups = $ids, expected nobody's ($uid, $gid) everywhere"
done
ops_note "supervisor root; workers $(workers | tr '\n' ' ')all nobody:nogroup (real, effective, saved, filesystem)"

grep -q 'supervisor started with 2 workers' "$log" || ops_fail "log_file $log lacks the start line"
[ ! -s "$dir/stderr" ] || ops_fail "with log_file set, stderr still got: $(head -c 200 "$dir/stderr")"
mv "$log" "$log.1"
kill -USR1 "$pid"
stack_wait 10 grep -q 'SIGUSR1: log reopened' "$log" || ops_fail "SIGUSR1 did not reopen $log"
stack_wait 10 grep -q 'database unavailable' "$log" || ops_fail "the new workers do not write to the reopened $log"
ops_note "log_file written; SIGUSR1 reopened it and the new workers write there"
kill -TERM "$pid"
ops_wait_gone 40 "$pid" || ops_fail "the supervisor did not stop on SIGTERM"

check_config() {	# check_config EXPECTED-EXIT TEXT: --check-config on $dir/c.conf
	"${run_env[@]}" "$OPS_FCGI" --config "$dir/c.conf" --check-config >"$dir/c.out" 2>&1
	local rc=$?
	[ "$rc" -eq "$1" ] && grep -q -- "$2" "$dir/c.out" || ops_fail "check-config of '$(tr '\n' ';' <"$dir/c.conf")': exit $rc, $(head -c 300 "$dir/c.out")"
}
printf 'socket_mode = 999\n' >"$dir/c.conf"
check_config 1 'socket_mode must be an octal mode'
printf 'log_file = imagereg.log\n' >"$dir/c.conf"
check_config 1 'log_file must be empty, syslog or an absolute path'
printf 'dsn = host=/x dbname=y password=secret\n' >"$dir/c.conf"
chmod 0644 "$dir/c.conf"
check_config 1 "chmod 0640 $dir/c.conf"
chmod 0640 "$dir/c.conf"
check_config 0 'configuration OK'
ops_note "check-config: bad socket_mode, relative log_file, world-readable password refused; 0640 accepted"
exit 0
