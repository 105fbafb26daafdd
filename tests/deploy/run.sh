#!/usr/bin/env bash
# tests/deploy/run.sh - README's "Deploying under an existing nginx", run as
# written: the shell blocks marked `<!-- deploy:step NAME -->` in README.md,
# in order, in one bash with errexit, on
#   - Debian's own nginx configuration (a copy of /etc/nginx: the packaged
#     nginx.conf and default site, with the listen port moved to a free
#     loopback port and the pid and log paths into this test's directory; the
#     machine's nginx is untouched), reached through an `nginx` on PATH that
#     adds -p/-c for the copy;
#   - a throwaway cluster made the Debian way (pg_createcluster, Debian's
#     default pg_hba.conf: peer authentication), started with pg_ctlcluster,
#     dropped with pg_dropcluster at the end;
#   - a temporary PREFIX; the responder runs as the system user imagereg,
#     no systemd (start-stop-daemon).
# The settings block is the only one replaced: PREFIX, NGINX, PGCLUSTER and
# SITE point at the above.  Then it drives POST/GET/PUT/DELETE and the console
# through that nginx, every admin command through the one documented way
# (`<!-- deploy:admin -->`), a key rotation and a log rotation; checks that the
# default site's own pages are unchanged; runs the Uninstall block; checks
# `nginx -t`, the site again, and that nothing is left behind.
#
# It deploys for real (user imagereg, /etc/imagereg, /run/imagereg,
# /var/log/imagereg), so it refuses to run where any of them exists, and
# removes what it made on every way out.  Needs root.  Everything it starts
# is stopped by PID.  Time limit: DEPLOY_TIME_LIMIT seconds per step (300).
# Last line: `N passed, N failed`.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
# pg_free_port and stack_wait; the loop below unsets the IMAGEREG_USER stack.sh exports.
. tests/lib/stack.sh

LIMIT=${DEPLOY_TIME_LIMIT:-300}
PGVERSION=15
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
bad() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
check() {	# check NAME COMMAND...: one ok/not ok line
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

# The responder and the CLI must see only what README's commands set.
while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(IMAGEREG_[A-Z_]*\)=.*/\1/p; s/^\(PG[A-Z]*\)=.*/\1/p')

if [ "$(id -u)" -ne 0 ]; then
	bad "deploy: needs root (it deploys as README says, as root)"
	finish
fi
for c in nginx:nginx-light pg_createcluster:postgresql-common pg_conftool:postgresql-common \
	start-stop-daemon:dpkg adduser:adduser openssl:openssl curl:curl python3:python3 runuser:util-linux; do
	command -v "${c%%:*}" >/dev/null 2>&1 || { bad "deploy: ${c%%:*} is missing (Debian package ${c#*:}; make deps-test)"; finish; }
done
[ -f /etc/nginx/nginx.conf ] && [ -f /etc/nginx/sites-available/default ] ||
	{ bad "deploy: no Debian nginx configuration in /etc/nginx (nginx-common)"; finish; }
for p in /etc/imagereg /run/imagereg /var/log/imagereg; do
	[ ! -e "$p" ] || { bad "deploy: $p exists: an imagereg deployment is on this machine, not touching it"; finish; }
done
! id imagereg >/dev/null 2>&1 || { bad "deploy: user imagereg exists on this machine, not touching it"; finish; }

work=$(mktemp -d /tmp/imagereg-deploy.XXXXXX) || exit 2
chmod 0755 "$work"
cluster="imagereg_deploy_$$"
made_cluster='' nginx_pid=''

cleanup() {
	local pid
	if [ -f /run/imagereg/imagereg.pid ]; then
		pid=$(cat /run/imagereg/imagereg.pid)
		kill -TERM "$pid" 2>/dev/null && stack_wait 40 bash -c "! kill -0 $pid"
	fi
	[ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && stack_wait 10 bash -c "! kill -0 $nginx_pid"
	[ -n "$made_cluster" ] && pg_dropcluster --stop "$PGVERSION" "$cluster" >/dev/null 2>&1
	# What README's steps make; absent at the start, so ours.
	rm -rf /etc/imagereg /run/imagereg /var/log/imagereg
	id imagereg >/dev/null 2>&1 && deluser --quiet --system imagereg >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the cluster, the Debian way ------------------------------------------------
pgport=$(pg_free_port) || { bad "deploy: no free port"; finish; }
if pg_createcluster --start-conf=manual -p "$pgport" "$PGVERSION" "$cluster" -- --no-sync >"$work/cluster.log" 2>&1; then
	made_cluster=1
else
	sed 's/^/# /' "$work/cluster.log"
	bad "deploy: pg_createcluster $PGVERSION $cluster failed"
	finish
fi
# Only speed and the loopback-free socket differ from Debian's defaults; pg_hba.conf is untouched.
pg_conftool "$PGVERSION" "$cluster" set fsync off >/dev/null
pg_conftool "$PGVERSION" "$cluster" set listen_addresses '' >/dev/null
if ! pg_ctlcluster "$PGVERSION" "$cluster" start >>"$work/cluster.log" 2>&1; then
	sed 's/^/# /' "$work/cluster.log"
	bad "deploy: pg_ctlcluster $PGVERSION $cluster start failed"
	finish
fi
grep -Eq '^local[[:space:]]+all[[:space:]]+all[[:space:]]+peer' "/etc/postgresql/$PGVERSION/$cluster/pg_hba.conf" &&
	ok "deploy: cluster $PGVERSION/$cluster on port $pgport with Debian's pg_hba.conf (local: peer)" ||
	bad "deploy: the cluster's pg_hba.conf is not Debian's default"

# --- Debian's nginx configuration, privately ----------------------------------------
ngx="$work/nginx"
cp -a /etc/nginx "$ngx"
port=$(pg_free_port) || { bad "deploy: no free port"; finish; }
sed -i -e "s|/etc/nginx/|$ngx/|g" -e "s|^pid .*|pid $work/nginx.pid;|" \
	-e "s|^error_log .*|error_log $work/nginx-error.log;|" \
	-e "s|access_log /var/log/nginx/access.log;|access_log $work/nginx-access.log;|" "$ngx/nginx.conf"
ln -sfn ../sites-available/default "$ngx/sites-enabled/default"
sed -i -e "s|^\tlisten 80 default_server;|\tlisten 127.0.0.1:$port default_server;|" \
	-e '/^\tlisten \[::\]:80 default_server;/d' "$ngx/sites-available/default"
grep -q "listen 127.0.0.1:$port default_server;" "$ngx/sites-available/default" ||
	{ bad "deploy: could not move Debian's default site to port $port"; finish; }
cp "$ngx/sites-available/default" "$work/default.orig"
mkdir -p "$work/bin"
# Debian's prefix stays (modules/ is relative to it); -c moves the configuration.
printf '#!/bin/sh\n# nginx for the copy of /etc/nginx in %s\nexec /usr/sbin/nginx -c %s/nginx.conf -e %s/nginx-error.log "$@"\n' \
	"$ngx" "$ngx" "$work" >"$work/bin/nginx"
chmod 0755 "$work/bin/nginx"
if ! "$work/bin/nginx" </dev/null >"$work/nginx-start.log" 2>&1 || ! stack_wait 10 test -s "$work/nginx.pid"; then
	sed 's/^/# /' "$work/nginx-start.log" "$work/nginx-error.log" 2>/dev/null
	bad "deploy: Debian's nginx configuration did not start"
	finish
fi
nginx_pid=$(cat "$work/nginx.pid")
site="http://127.0.0.1:$port"
stack_wait 10 curl -s -o /dev/null "$site/" || { bad "deploy: nginx does not answer on $site"; finish; }

# The host site's own pages, before: index, a 404, a 405.
site_pages() {	# site_pages OUTDIR
	mkdir -p "$1"
	curl -s -o "$1/index" -w '%{http_code} %{content_type}\n' "$site/" >"$1/codes"
	curl -s -o "$1/404" -w '%{http_code} %{content_type}\n' "$site/no-such-page" >>"$1/codes"
	curl -s -o "$1/405" -w '%{http_code} %{content_type}\n' -X POST "$site/" >>"$1/codes"
}
site_pages "$work/before"
grep -q '^200 ' "$work/before/codes" && grep -q '^404 ' "$work/before/codes" ||
	{ sed 's/^/# /' "$work/before/codes"; bad "deploy: Debian's default site does not answer 200 and 404"; finish; }
ok "deploy: Debian's nginx.conf and default site on $site (pid $nginx_pid)"

# --- README's blocks ----------------------------------------------------------
python3 - "$root/README.md" "$work" <<'PY' || { bad "deploy: cannot read the deploy blocks of README.md"; finish; }
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"<!-- deploy:(step \S+|admin) -->\n```sh\n(.*?)```", text, re.S)
names = [n for n, _ in blocks]
want = ["step settings", "step install", "step database", "step responder", "step nginx", "step token",
        "admin", "step uninstall"]
if names != want:
    sys.exit(f"README.md deploy blocks are {names}, expected {want}")
for name, body in blocks:
    open(f"{sys.argv[2]}/{name.replace('step ', 'step-')}.sh", "w").write(body)
PY
admin_line=$(grep -v '^[[:space:]]*$' "$work/admin.sh")
admin_prefix=${admin_line% COMMAND}
[ "$admin_prefix" != "$admin_line" ] && [ "$(wc -l <"$work/admin.sh")" -eq 1 ] ||
	{ bad "deploy: the deploy:admin block is not one line ending in COMMAND: $admin_line"; finish; }
ok "deploy: README's blocks: settings install database responder nginx token admin uninstall"

# What root's PATH is on a stock Debian: the suite runner may put PostgreSQL's
# own bindir first, whose psql and createdb have no --cluster.
debian_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The settings block, replaced: the same three names (and SITE) for this test.
grep -q '^PREFIX=' "$work/step-settings.sh" && grep -q '^NGINX=' "$work/step-settings.sh" &&
	grep -q '^PGCLUSTER=' "$work/step-settings.sh" && grep -q '^SITE=' "$work/step-settings.sh" ||
	{ bad "deploy: README's settings block no longer sets PREFIX, NGINX, PGCLUSTER and SITE"; finish; }
cat >"$work/settings.sh" <<EOF
PREFIX=$work/prefix
NGINX=$ngx
PGCLUSTER=$PGVERSION/$cluster
SITE=$site
# Debian's root PATH (pg_wrapper's createdb and psql, which know --cluster), PREFIX and our nginx first.
PATH=$work/bin:$work/prefix/sbin:$work/prefix/bin:$debian_path
cd "$root"
EOF

# run_steps NAME...: README's blocks in one bash with errexit; the variables
# they set are kept for the next call in $work/state.sh.
: >"$work/state.sh"
run_steps() {
	local s script="$work/run-$1.sh" rc
	{
		echo 'set -e'
		echo ". '$work/settings.sh'"
		echo ". '$work/state.sh'"
		for s in "$@"; do
			echo "echo '# step $s' >&2"
			cat "$work/step-$s.sh"
		done
		echo "declare -p PGPORT TOKEN 2>/dev/null >'$work/state.new' || true"
	} >"$script"
	timeout "$LIMIT" bash "$script" >"$work/$1.out" 2>&1 </dev/null
	rc=$?
	[ -s "$work/state.new" ] && mv "$work/state.new" "$work/state.sh"
	if [ "$rc" -ne 0 ]; then
		tail -n 25 "$work/$1.out" | sed 's/^/# /'
		return 1
	fi
}

if ! run_steps install; then
	bad "deploy: README step install (make install PREFIX=$work/prefix)"
	finish
fi
ok "deploy: README step install"
for s in database responder nginx token; do
	if ! run_steps "$s"; then
		bad "deploy: README step $s"
		finish
	fi
	ok "deploy: README step $s"
	# nginx -s reload returns before the new workers serve: wait for them.
	[ "$s" = nginx ] && stack_wait 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$site/healthz')\" != 404 ]"
done
. "$work/state.sh"
[ -n "${TOKEN:-}" ] && ok "deploy: the documented token create printed a token" || bad "deploy: no token from the token step"
grep -q '"status":"ok"' "$work/token.out" && ok "deploy: the token step's curl of /healthz says ok" ||
	bad "deploy: the token step's /healthz: $(head -c 300 "$work/token.out")"

# --- what the deployment is ----------------------------------------------------
pid=$(cat /run/imagereg/imagereg.pid 2>/dev/null)
sock=/run/imagereg/imagereg.sock
check "deploy: the socket belongs to www-data, mode 0600" test "$(stat -c '%U %a' "$sock" 2>/dev/null)" = "www-data 600"
workers_ok() {
	local c n=0
	for c in $(ps -o pid= --ppid "$pid"); do
		[ "$(ps -o user= -p "$c")" = imagereg ] || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] && [ "$(ps -o user= -p "$pid")" = root ]
}
check "deploy: supervisor $pid runs as root, its workers as imagereg" workers_ok

# --- the API and the console through Debian's nginx ---------------------------------
auth=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
api="$site/openapi/system/registry"
req() {	# req METHOD URL [curl args]: prints the status, body in $work/body
	local m=$1 u=$2
	shift 2
	curl -s --max-time 15 -o "$work/body" -w '%{http_code}' -X "$m" "$u" "$@"
}
json() { python3 -c "import json,sys; d=json.load(open('$work/body')); print($1)"; }

code=$(req POST "$api" "${auth[@]}" -d '{"address":"https://registry.example.com","provider":"harbor","namespace":"team","is_default":true,"access_key":"deploy-ak","secret_key":"deploy-sk"}')
id=$(json 'd["registry_id"]' 2>/dev/null)
[ "$code" = 200 ] && [ -n "$id" ] && ok "deploy: POST through nginx: 200, $id" || bad "deploy: POST: $code $(head -c 300 "$work/body")"
code=$(req GET "$api/$id" "${auth[@]}")
[ "$code" = 200 ] && grep -q registry.example.com "$work/body" && ok "deploy: GET one: 200" || bad "deploy: GET one: $code $(head -c 300 "$work/body")"
code=$(req PUT "$api/$id" "${auth[@]}" -d '{"address":"https://registry.example.com","provider":"harbor","namespace":"team2"}')
[ "$code" = 200 ] && ok "deploy: PUT: 200" || bad "deploy: PUT: $code $(head -c 300 "$work/body")"
code=$(req POST "$api" "${auth[@]}" -d '{"address":"https://other.example.com","provider":"native","namespace":"x"}')
id2=$(json 'd["registry_id"]' 2>/dev/null)
code=$(req DELETE "$api/$id2" "${auth[@]}")
[ "$code" = 200 ] && ok "deploy: DELETE: 200" || bad "deploy: DELETE $id2: $code $(head -c 300 "$work/body")"
code=$(req GET "$api" "${auth[@]}")
[ "$code" = 200 ] && [ "$(json 'len(d)')" = 1 ] && grep -q team2 "$work/body" && ok "deploy: GET list: the PUT's registry alone" ||
	bad "deploy: GET list: $code $(head -c 300 "$work/body")"
code=$(req GET "$api")
[ "$code" = 401 ] && ok "deploy: no token: 401" || bad "deploy: no token: $code"
code=$(req GET "$site/registry-console/")
[ "$code" = 200 ] && cmp -s "$work/body" "$work/prefix/share/imagereg/console/index.html" &&
	ok "deploy: the console page from PREFIX/share/imagereg/console" || bad "deploy: console: $code $(head -c 200 "$work/body")"
ctype=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$site/registry-console/console.js")
case $ctype in "200 text/javascript"*) ok "deploy: console.js as text/javascript" ;; *) bad "deploy: console.js: $ctype" ;; esac

site_pages "$work/during"
site_same() {	# the default site's index, 404 and 405: status, type and body as before
	local d=$1 f
	cmp -s "$work/before/codes" "$d/codes" || { diff "$work/before/codes" "$d/codes" | sed 's/^/# /'; return 1; }
	for f in index 404 405; do
		cmp -s "$work/before/$f" "$d/$f" || { echo "# $f differs"; return 1; }
	done
}
check "deploy: with imagereg included, the site's own /, 404 and 405 pages are unchanged" site_same "$work/during"

# --- every admin command, the one documented way -----------------------------------
read -r -a admin <<<"$admin_prefix"
adm() { PATH="$work/prefix/sbin:$work/prefix/bin:$debian_path" timeout 60 "${admin[@]}" "$@"; }
adm migrate >"$work/adm.out" 2>&1 && ok "deploy: admin migrate again" || bad "deploy: admin migrate: $(tail -n 3 "$work/adm.out")"
adm token list >"$work/adm.out" 2>&1 && grep -q '^ops' "$work/adm.out" && ok "deploy: admin token list" ||
	bad "deploy: admin token list: $(tail -n 3 "$work/adm.out")"
rtoken=$(adm token create reader --scope read 2>"$work/adm.err")
code=$(req GET "$api" -H "Authorization: Bearer $rtoken")
[ "$code" = 200 ] && ok "deploy: admin token create reader: its token reads" || bad "deploy: read token: $code $(cat "$work/adm.err")"
adm token revoke reader >"$work/adm.out" 2>&1 || bad "deploy: admin token revoke: $(tail -n 3 "$work/adm.out")"
sleep 1   # NOTIFY reaches the workers a moment later when the CLI cannot bump the counters
code=$(req GET "$api" -H "Authorization: Bearer $rtoken")
[ "$code" = 401 ] && ok "deploy: admin token revoke: the token is refused" || bad "deploy: revoked token: $code"
adm credentials "$id" >"$work/adm.out" 2>&1 && grep -q deploy-sk "$work/adm.out" && ok "deploy: admin credentials (reads the key)" ||
	bad "deploy: admin credentials: $(tail -n 3 "$work/adm.out")"
adm docker-config "$id" >"$work/adm.out" 2>&1 && grep -q auths "$work/adm.out" && ok "deploy: admin docker-config" ||
	bad "deploy: admin docker-config: $(tail -n 3 "$work/adm.out")"
adm check "$id" >"$work/adm.out" 2>&1
rc=$?
{ [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; } && grep -q '"checked_address"' "$work/adm.out" && ok "deploy: admin check (exit $rc, a result line)" ||
	bad "deploy: admin check: exit $rc $(tail -n 3 "$work/adm.out")"
# Rotation as README says: a new key readable by group imagereg, rotate, move it in place, SIGHUP.
(umask 027 && openssl rand -hex 32 >/etc/imagereg/key.new) && chgrp imagereg /etc/imagereg/key.new
if adm key rotate /etc/imagereg/key.new >"$work/adm.out" 2>&1; then
	mv /etc/imagereg/key.new /etc/imagereg/key
	kill -HUP "$pid"
	sleep 2
	adm credentials "$id" >"$work/adm.out" 2>&1 && grep -q deploy-sk "$work/adm.out" &&
		code=$(req PUT "$api/$id" "${auth[@]}" -d '{"address":"https://registry.example.com","provider":"harbor","namespace":"team3","secret_key":"deploy-sk2"}') &&
		[ "$code" = 200 ] && adm credentials "$id" 2>/dev/null | grep -q deploy-sk2 &&
		ok "deploy: admin key rotate, new key in place, SIGHUP: credentials unseal and seal" ||
		bad "deploy: after key rotate: $code $(tail -n 3 "$work/adm.out")"
else
	bad "deploy: admin key rotate: $(tail -n 3 "$work/adm.out")"
fi

# --- the log file, and logrotate's SIGUSR1 ------------------------------------------
log=/var/log/imagereg/imagereg.log
grep -q 'GET /openapi/system/registry 200' "$log" 2>/dev/null && ok "deploy: request lines in $log" || bad "deploy: no request line in $log"
mv "$log" "$log.1"
kill -USR1 "$pid"
sleep 1
req GET "$api/$id" "${auth[@]}" >/dev/null
stack_wait 5 grep -q "GET /openapi/system/registry/$id 200" "$log" && ok "deploy: SIGUSR1 reopens the log (logrotate)" ||
	bad "deploy: after SIGUSR1 no request line in a new $log"

# --- Uninstall, as README says -----------------------------------------------------
if run_steps uninstall; then ok "deploy: README step uninstall"; else bad "deploy: README step uninstall"; fi
check "deploy: nginx -t passes after the uninstall" "$work/bin/nginx" -t -q
check "deploy: the default site is as before the deployment" cmp -s "$work/default.orig" "$ngx/sites-available/default"
check "deploy: conf.d holds no imagereg file" bash -c "! ls '$ngx/conf.d' | grep -q imagereg"
site_pages "$work/after"
check "deploy: after the uninstall, the site's own pages are unchanged" site_same "$work/after"
left=$(find "$work/prefix" -type f 2>/dev/null)
[ -z "$left" ] && ok "deploy: nothing left under PREFIX" || bad "deploy: left under PREFIX: $left"
gone() { local p; for p in /etc/imagereg /run/imagereg /var/log/imagereg; do [ ! -e "$p" ] || return 1; done; }
check "deploy: /etc/imagereg, /run/imagereg, /var/log/imagereg removed" gone
check "deploy: user imagereg removed" bash -c "! id imagereg >/dev/null 2>&1"
check "deploy: the responder stopped" bash -c "! kill -0 $pid 2>/dev/null"
# From /: the postgres user may not enter the clone's directory (a mktemp -d is 0700), and psql says so on stderr.
roles=$(cd / && runuser -u postgres -- /usr/bin/psql --cluster "$PGVERSION/$cluster" -d postgres -Atc "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'imagereg%'" 2>&1)
[ "$roles" = 0 ] && ok "deploy: no imagereg role or database left in the cluster" || bad "deploy: roles left: $roles"
finish
