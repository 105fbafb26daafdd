#!/usr/bin/env bash
# make install into a DESTDIR puts exactly the promised files in FHS places,
# the installed CLI finds the installed sql/, and make uninstall removes them all.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d /tmp/imagereg-install.XXXXXX)
trap 'rm -rf "$stage"' EXIT
fail() { echo "t_install: $*" >&2; exit 1; }

make -s -C "$root" install DESTDIR="$stage" PREFIX=/usr/local >"$stage.log" 2>&1 || { cat "$stage.log" >&2; rm -f "$stage.log"; fail "make install failed"; }
rm -f "$stage.log"
expected=$(make -s -C "$root" install-list PREFIX=/usr/local | sort)
actual=$(cd "$stage" && find . -type f | sed 's|^\.||' | sort)
[ "$expected" = "$actual" ] || fail "installed files differ from the list:
$(diff <(echo "$expected") <(echo "$actual"))"

[ -x "$stage/usr/local/sbin/imagereg-fcgi" ] || fail "responder not executable in sbin"
[ -x "$stage/usr/local/bin/imagereg" ] || fail "CLI not executable in bin"
"$stage/usr/local/bin/imagereg" help | grep -q '/usr/local/share/imagereg/sql' \
	|| fail "the installed CLI does not default to the installed sql/"
"$stage/usr/local/sbin/imagereg-fcgi" --help >/dev/null 2>&1 || fail "installed responder --help failed"

make -s -C "$root" uninstall DESTDIR="$stage" PREFIX=/usr/local >/dev/null 2>&1 || fail "make uninstall failed"
left=$(cd "$stage" && find . -type f)
[ -z "$left" ] || fail "uninstall left files: $left"
[ ! -d "$stage/usr/local/share/imagereg" ] || fail "uninstall left share/imagereg"
echo "install: $(echo "$expected" | wc -l) files installed and removed"
