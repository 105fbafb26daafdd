#!/usr/bin/env bash
# t_systemd: nginx/imagereg.socket and nginx/imagereg.service are valid units
# with the settings the deployment promises.
#   - each promised directive is there, exactly (socket path, owner and mode;
#     ExecStart/ExecReload; KillMode; user; every hardening option);
#   - `systemd-analyze verify` on both prints nothing and exits 0, with the
#     Documentation= pages resolved against cgi/man (MANPATH);
#   - the same verify does complain about a unit whose ExecStart does not exist,
#     so a silent verify means something.
# systemd is not PID 1 here; verify works offline and is all we need of it.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"

ops_need_cmd systemd-analyze systemd
ops_need_cmd man man-db
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"

socket=nginx/imagereg.socket service=nginx/imagereg.service
[ -f "$socket" ] && [ -f "$service" ] || ops_fail "missing $socket or $service"

# need FILE SECTION LINE: LINE, exactly, inside [SECTION] of FILE.
need() {
	awk -v sec="[$2]" -v want="$3" '
		/^\[/ { in_sec = ($0 == sec); next }
		in_sec && $0 == want { found = 1 }
		END { exit !found }' "$1" || ops_fail "$1: [$2] lacks the line '$3'"
}
need "$socket" Socket "ListenStream=/run/imagereg/imagereg.sock"
need "$socket" Socket "SocketUser=imagereg"
need "$socket" Socket "SocketGroup=www-data"
need "$socket" Socket "SocketMode=0660"
need "$socket" Install "WantedBy=sockets.target"
need "$service" Unit "Requires=imagereg.socket"
need "$service" Service "ExecStart=/usr/local/sbin/imagereg-fcgi --config /etc/imagereg/imagereg.conf"
need "$service" Service 'ExecReload=/bin/kill -HUP $MAINPID'
need "$service" Service "KillMode=mixed"
need "$service" Service "KillSignal=SIGTERM"
need "$service" Service "User=imagereg"
need "$service" Service "Group=imagereg"
need "$service" Service "StandardError=journal"
for line in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
	ProtectKernelTunables=yes ProtectKernelModules=yes ProtectControlGroups=yes \
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" RestrictNamespaces=yes LockPersonality=yes \
	MemoryDenyWriteExecute=yes RestrictRealtime=yes SystemCallArchitectures=native \
	CapabilityBoundingSet= ReadOnlyPaths=/etc/imagereg; do
	need "$service" Service "$line"
done
# The supervisor gives busy workers 30 s after SIGTERM: systemd must wait longer
# before its SIGKILL.
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$service")
[ -n "$stop" ] && [ "$stop" -gt 30 ] || ops_fail "$service: TimeoutStopSec must be over the supervisor's 30 s grace"
# No listening option in ExecStart: the socket comes from imagereg.socket as fd 3.
grep -E '^ExecStart=.*--listen' "$service" && ops_fail "$service: ExecStart must not --listen (the socket unit owns the socket)"
ops_note "every promised directive is in $socket and $service"

# verify checks that ExecStart's binary exists and is executable: copies of
# the units with /usr/local/sbin/imagereg-fcgi replaced by the binary built in
# the tree.  User=imagereg and SocketUser=imagereg stay: systemd 252's verify
# does not resolve users (were a later one to complain that user imagereg does
# not exist, rewrite them to root here, in the copies only).  The unit names
# must stay imagereg.socket and imagereg.service: the socket activates the
# service of its own name.
units="$dir/units"
mkdir -p "$units" "$dir/man/man1" "$dir/man/man5" "$dir/man/man8"
cp "$socket" "$service" "$units/"
sed -i "s|/usr/local/sbin/imagereg-fcgi|$OPS_FCGI|g" "$units/imagereg.service"
grep -q "^ExecStart=$OPS_FCGI --config " "$units/imagereg.service" || ops_fail "could not point ExecStart at $OPS_FCGI"
# Documentation=man:... is checked with man(1): the pages of the tree, by MANPATH.
ln -sf "$OPS_ROOT/cgi/man/imagereg.1" "$dir/man/man1/"
ln -sf "$OPS_ROOT/cgi/man/imagereg.conf.5" "$dir/man/man5/"
ln -sf "$OPS_ROOT/cgi/man/imagereg-fcgi.8" "$dir/man/man8/"

(cd "$units" && MANPATH="$dir/man" SYSTEMD_LOG_COLOR=0 timeout 60 systemd-analyze verify imagereg.socket imagereg.service) >"$dir/verify.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] || [ -s "$dir/verify.out" ]; then
	sed 's/^/# /' "$dir/verify.out"
	ops_fail "systemd-analyze verify (exit $rc): $(head -n 1 "$dir/verify.out")"
fi
ops_note "systemd-analyze verify: clean, Documentation= pages found"

# The control: the same verify on a unit whose ExecStart is missing must complain.
mkdir -p "$dir/broken"
cp "$socket" "$service" "$dir/broken/"
sed -i "s|/usr/local/sbin/imagereg-fcgi|$dir/no-such-binary|g" "$dir/broken/imagereg.service"
(cd "$dir/broken" && timeout 60 systemd-analyze verify --man=no imagereg.socket imagereg.service) >"$dir/broken.out" 2>&1
grep -q 'no-such-binary' "$dir/broken.out" || ops_fail "systemd-analyze verify did not notice a missing ExecStart binary"
ops_note "control: verify reports a missing ExecStart binary"
exit 0
