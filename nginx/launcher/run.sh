#!/usr/bin/env bash
# nginx/launcher/run.sh - `make run`: the whole stack on 127.0.0.1:$PORT until Ctrl-C.
# Its state (PostgreSQL data, the at-rest key, logs) stays between runs in
# RUN_DIR (default /var/tmp/imagereg-run), outside the source tree; or the
# database of IMAGEREG_DSN is used.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib/stack.sh"
port=${PORT:-8080}

# Not in the source tree: a clean checkout stays clean, and the postgres user
# can reach it wherever the tree is (/root is not open to it).
state=${RUN_DIR:-/var/tmp/imagereg-run}
mkdir -p "$state"
chmod 0755 "$state"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "port $port is taken; try PORT=8081 make run" >&2
	exit 1
fi

trap 'echo; echo stopping...; stack_stop "$state"; exit 0' INT TERM
stack_start "$state" "$port" || { stack_stop "$state"; exit 1; }
url="http://127.0.0.1:$port"
cat <<MSG

imagereg is running at $url/openapi/system/registry
  console: $url/registry-console/   health: $url/healthz
  logs:  $state/imagereg.log, $state/nginx-error.log
  key:   $IMAGEREG_KEY_FILE (seals registry credentials; keep it)
  token: $IMAGEREG_TOKEN_NAME (write scope; shown only now)

Try:
  TOKEN=$IMAGEREG_TOKEN
  curl -s -X POST $url/openapi/system/registry \\
       -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       -d '{"address":"https://registry.example.com","provider":"harbor","namespace":"team","is_default":true}'
  curl -s -H "Authorization: Bearer \$TOKEN" $url/openapi/system/registry

Admin CLI against this stack (the same allow-list and check slots as the API):
  export IMAGEREG_ADMIN_DSN='$IMAGEREG_ADMIN_DSN' IMAGEREG_KEY_FILE=$IMAGEREG_KEY_FILE \\
         IMAGEREG_CHECK_ALLOW_NETWORKS='$(stack_allow_networks)' IMAGEREG_GENERATION_FILE=$IMAGEREG_GENERATION_FILE
  cgi/imagereg token list
  cgi/imagereg check

Press Ctrl-C to stop.
MSG
while :; do sleep 3600 & wait $!; done
