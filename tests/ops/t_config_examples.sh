#!/usr/bin/env bash
# t_config_examples: the config files we show people are accepted as they are.
#   - nginx/imagereg.conf.example (what gets copied to /etc/imagereg/imagereg.conf)
#     passes `imagereg-fcgi --config FILE --check-config`;
#   - so does the file in the EXAMPLES section of cgi/man/imagereg.conf.5;
#   - both with an empty environment but for IMAGEREG_KEY_FILE (a fresh key:
#     --check-config loads the key, and /etc/imagereg/key need not exist here;
#     the environment overriding key_file is part of what is checked).
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"

ops_new_key "$dir/key"

check() {	# check NAME FILE
	if ! env -i PATH="$PATH" IMAGEREG_KEY_FILE="$dir/key" timeout 30 "$OPS_FCGI" --config "$2" --check-config \
		>"$dir/check.out" 2>&1; then
		sed 's/^/# /' "$dir/check.out"
		ops_fail "$1 fails --check-config: $(head -n 1 "$dir/check.out")"
	fi
	ops_note "$1: $(head -n 1 "$dir/check.out")"
}

check nginx/imagereg.conf.example nginx/imagereg.conf.example

# The first literal display after `.Sh EXAMPLES` whose first line is the file's name.
awk '
	/^\.Sh / { in_ex = ($2 == "EXAMPLES") }
	in_ex && /^\.Bd -literal/ { in_bd = 1; first = 1; next }
	in_bd && /^\.Ed/ { if (taken) exit; in_bd = 0; next }
	in_bd && first { first = 0; if ($0 ~ /imagereg\.conf$/) taken = 1; }
	in_bd && taken { gsub(/\\e/, "\\"); print }
' cgi/man/imagereg.conf.5 >"$dir/man-example.conf"
grep -q '^dsn = ' "$dir/man-example.conf" || ops_fail "found no config file in the EXAMPLES of imagereg.conf.5"
check "imagereg.conf(5) EXAMPLES" "$dir/man-example.conf"
exit 0
