#!/usr/bin/env bash
# Starts the stack under DIR and prints `export` lines for a shell to eval:
#   eval "$(bash tests/stack-up.sh /tmp/x)"   ...   bash tests/stack-down.sh /tmp/x
set -e
dir=${1:?usage: stack-up.sh DIR}
mkdir -p "$dir"
. "$(dirname "$0")/lib/stack.sh"
stack_start "$dir" >&2
for v in IMAGEREG_URL IMAGEREG_PREFIX_URL IMAGEREG_DSN IMAGEREG_ADMIN_DSN IMAGEREG_LOGS IMAGEREG_CGI \
	IMAGEREG_CLI IMAGEREG_PORT IMAGEREG_KEY_FILE IMAGEREG_TOKEN IMAGEREG_READ_TOKEN IMAGEREG_TOKEN_NAME \
	IMAGEREG_READ_TOKEN_NAME IMAGEREG_GENERATION_FILE PGHOST PGPORT PGUSER PGDATABASE; do
	printf 'export %s=%q\n' "$v" "${!v}"
done
