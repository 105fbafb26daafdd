# t067: 16 sessions send the same Idempotency-Key at once: all succeed, one registry is created and every session gets
# its id. Then 16 sessions update one registry with the same If-Match at once: exactly one writes, the others find
# the version changed (precondition_failed) and change nothing.
set -eu
. "$(dirname "$0")/lib/sessions.sh"
n=16

gate_close
for i in $(seq 1 "$n"); do
	session_start "k$i" "SELECT 'id ' || registry_id || ' ' || replayed FROM imagereg_registry_create('t067',
		'https://same.example', 'native', NULL, 'ns', false, NULL, NULL, false, NULL, 'same-key');
		SELECT pg_sleep(0.01);"
done
gate_open "$n"
session_wait_all || { echo "not every keyed session succeeded"; exit 1; }
rows=$(q "SELECT count(*) FROM registry")
[ "$rows" -eq 1 ] || { echo "$rows registries after $n POSTs with one key, want 1"; exit 1; }
id=$(q "SELECT id FROM registry")
ids=$(cat "$SESSION_DIR"/k*.out | sed -n 's/^id \([0-9a-f]*\) .*/\1/p' | sort | uniq -c)
[ "$(echo "$ids" | wc -l)" -eq 1 ] && [ "$(echo "$ids" | awk '{print $1}')" -eq "$n" ] &&
	[ "$(echo "$ids" | awk '{print $2}')" = "$id" ] || { echo "ids seen: $ids, want $n x $id"; exit 1; }
fresh=$(cat "$SESSION_DIR"/k*.out | grep -c '^id .* false$' || true)
[ "$fresh" -eq 1 ] || { echo "$fresh sessions created, want 1 (the others replay)"; exit 1; }
echo "one key, $n sessions: one registry $id"

gate_close
for i in $(seq 1 "$n"); do
	session_start "u$i" "SELECT 'failed ' || precondition_failed FROM imagereg_registry_update('t067', '$id',
		'https://same.example', 'native', NULL, 'won-$i', false, NULL, NULL, NULL, NULL, '{1}');
		SELECT pg_sleep(0.01);"
done
gate_open "$n"
session_wait_all || { echo "not every If-Match session succeeded"; exit 1; }
won=$(cat "$SESSION_DIR"/u*.out | grep -c '^failed false$' || true)
lost=$(cat "$SESSION_DIR"/u*.out | grep -c '^failed true$' || true)
[ "$won" -eq 1 ] && [ "$lost" -eq $((n - 1)) ] || { echo "$won won and $lost lost, want 1 and $((n - 1))"; exit 1; }
read -r version namespace < <(q "SELECT version || ' ' || namespace FROM registry WHERE id = '$id'")
winner=$(grep -l '^failed false$' "$SESSION_DIR"/u*.out | sed 's/.*\/u\([0-9]*\)\.out/\1/')
[ "$version" -eq 2 ] && [ "$namespace" = "won-$winner" ] ||
	{ echo "row at version $version with namespace $namespace, want 2 and won-$winner"; exit 1; }
echo "one If-Match, $n sessions: session $winner wrote, version $version"
