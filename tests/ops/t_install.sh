#!/usr/bin/env bash
# t_install: make install honours PREFIX, DESTDIR and UNITDIR in every file it
# writes, for PREFIX=/usr/local and then PREFIX=/usr (in that order, so the
# second must relink the CLI the first left in cgi/install):
#   - exactly the files of `make install-list`, nothing more;
#   - the installed CLI defaults to PREFIX/share/imagereg/sql;
#   - the installed units run PREFIX/sbin/imagereg-fcgi (ExecStart, ExecReload)
#     and `systemd-analyze verify` on them prints nothing, with the
#     Documentation= pages found among the installed man pages; verify checks
#     that ExecStart's binary exists, so the staged copies have DESTDIR put in
#     front of PREFIX/sbin, the only change made to them;
#   - the console snippet's alias is PREFIX/share/imagereg/console/, which holds
#     the console; no installed file names another prefix;
#   - make uninstall removes every file and the share/imagereg directory.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"
ops_need_cmd systemd-analyze systemd
ops_need_cmd man man-db

for prefix in /usr/local /usr; do
	stage="$dir/stage${prefix//\//-}"
	other=/usr/local
	[ "$prefix" = /usr/local ] && other=/usr
	mkdir -p "$stage"
	# What `make install` runs, with cgi/install/PREFIX read under the same lock: the deploy suite installs
	# beside this one, and may take cgi/install right after us.
	flock cgi/install.lock sh -c 'make -s install-locked DESTDIR="$1" PREFIX="$2" && cp cgi/install/PREFIX "$3"' \
		sh "$stage" "$prefix" "$dir/recorded" >"$dir/install.log" 2>&1 ||
		{ sed 's/^/# /' "$dir/install.log"; ops_fail "make install PREFIX=$prefix failed"; }
	[ "$(cat "$dir/recorded")" = "$prefix" ] || ops_fail "cgi/install/PREFIX does not record PREFIX=$prefix"
	expected=$(make -s install-list PREFIX="$prefix" | sort)
	actual=$(cd "$stage" && find . -type f | sed 's|^\.||' | sort)
	[ "$expected" = "$actual" ] || ops_fail "PREFIX=$prefix: installed files differ from the list:
$(diff <(echo "$expected") <(echo "$actual"))"
	units="$stage$prefix/lib/systemd/system"
	[ -f "$units/imagereg.service" ] && [ -f "$units/imagereg.socket" ] ||
		ops_fail "PREFIX=$prefix: units not in $prefix/lib/systemd/system"

	[ -x "$stage$prefix/sbin/imagereg-fcgi" ] || ops_fail "responder not executable in $prefix/sbin"
	"$stage$prefix/bin/imagereg" help 2>&1 | grep -q "$prefix/share/imagereg/sql" ||
		ops_fail "PREFIX=$prefix: the installed CLI does not default to $prefix/share/imagereg/sql"
	"$stage$prefix/sbin/imagereg-fcgi" --help >/dev/null 2>&1 || ops_fail "installed responder --help failed"

	for key in ExecStart ExecReload; do
		sed -n "s/^$key=//p" "$units/imagereg.service" | grep -v '^/bin/kill ' | while read -r bin _; do
			[ "$bin" = "$prefix/sbin/imagereg-fcgi" ] || { echo "$key runs $bin"; exit 1; }
		done || ops_fail "PREFIX=$prefix: imagereg.service $key does not run $prefix/sbin/imagereg-fcgi"
	done
	grep -qx "    alias $prefix/share/imagereg/console/;" "$stage$prefix/share/imagereg/imagereg-console.conf" ||
		ops_fail "PREFIX=$prefix: imagereg-console.conf's alias is not $prefix/share/imagereg/console/"
	[ -f "$stage$prefix/share/imagereg/console/index.html" ] || ops_fail "PREFIX=$prefix: no console/index.html"
	# Only the man pages and README-like comments may say /usr/local as an example.
	if [ "$other" = /usr/local ]; then
		bad=$(grep -rlF "/usr/local/" "$stage$prefix/sbin" "$stage$prefix/bin" "$units" \
			"$stage$prefix/share/imagereg/imagereg-console.conf")
		[ -z "$bad" ] || ops_fail "PREFIX=$prefix: files still name /usr/local/: $bad"
	fi

	mkdir -p "$dir/verify"
	rm -f "$dir/verify/"*
	cp "$units/imagereg.socket" "$units/imagereg.service" "$dir/verify/"
	sed -i "s|^\(Exec[A-Za-z]*=\)$prefix/sbin/|\1$stage$prefix/sbin/|" "$dir/verify/imagereg.service"
	(cd "$dir/verify" && MANPATH="$stage$prefix/share/man" SYSTEMD_LOG_COLOR=0 timeout 60 \
		systemd-analyze verify imagereg.socket imagereg.service) >"$dir/verify.out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$dir/verify.out" ]; then
		sed 's/^/# /' "$dir/verify.out"
		ops_fail "PREFIX=$prefix: systemd-analyze verify (exit $rc): $(head -n 1 "$dir/verify.out")"
	fi
	ops_note "PREFIX=$prefix: $(echo "$expected" | wc -l) files; units run $prefix/sbin/imagereg-fcgi; systemd-analyze verify: clean"

	make -s uninstall DESTDIR="$stage" PREFIX="$prefix" >/dev/null 2>&1 || ops_fail "make uninstall PREFIX=$prefix failed"
	left=$(cd "$stage" && find . -type f)
	[ -z "$left" ] || ops_fail "PREFIX=$prefix: uninstall left files: $left"
	[ ! -d "$stage$prefix/share/imagereg" ] || ops_fail "PREFIX=$prefix: uninstall left share/imagereg"
done
exit 0
