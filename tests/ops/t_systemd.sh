#!/usr/bin/env bash
# t_systemd: the units make install writes (nginx/systemd/imagereg.socket and the
# service rendered from nginx/systemd/imagereg.service.in, here for PREFIX=/usr/local)
# have the settings the deployment promises.
#   - each promised directive is there, exactly (socket path, owner and mode;
#     ExecStart/ExecReload; KillMode; user; every hardening option; the runtime
#     directory kept across restarts, so the socket survives them);
#   - `systemd-analyze verify` does complain about a unit whose ExecStart does
#     not exist, so the clean verify of the installed units in t_install
#     (both prefixes) means something.
# systemd is not PID 1 here; verify works offline and is all we need of it.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"

ops_need_cmd systemd-analyze systemd
ops_need_cmd man man-db
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"

make -s render RENDER_DIR="$dir/rendered" PREFIX=/usr/local RENDER_FILES='nginx/systemd/imagereg.socket nginx/systemd/imagereg.service.in' ||
	ops_fail "make render failed"
socket=$dir/rendered/imagereg.socket service=$dir/rendered/imagereg.service
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
# systemd deletes a RuntimeDirectory= when the service stops unless told not
# to, and the socket of imagereg.socket lives in it.
need "$service" Service "RuntimeDirectory=imagereg"
need "$service" Service "RuntimeDirectoryPreserve=yes"
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

# The control: verify (as t_install runs it) on a unit whose ExecStart is missing must complain.
mkdir -p "$dir/broken"
cp "$socket" "$service" "$dir/broken/"
sed -i "s|/usr/local/sbin/imagereg-fcgi|$dir/no-such-binary|g" "$dir/broken/imagereg.service"
(cd "$dir/broken" && timeout 60 systemd-analyze verify --man=no imagereg.socket imagereg.service) >"$dir/broken.out" 2>&1
grep -q 'no-such-binary' "$dir/broken.out" || ops_fail "systemd-analyze verify did not notice a missing ExecStart binary"
ops_note "control: verify reports a missing ExecStart binary"
exit 0
