# t051: deleting the default while another transaction deletes the oldest row (the one that would be promoted)
# neither deadlocks nor leaves the table without a default, in each order, including the crossed order that
# deadlocks without the writer lock (A: delete oldest, then delete default; B: delete default).
set -eu
. "$(dirname "$0")/lib/sessions.sh"

# round NAME SQL_A SQL_B: fresh rows r1 (oldest) .. r4 with r3 the default; A and B run concurrently (@oldest and
# @default in the SQL stand for those ids); then exactly one default must remain: the oldest surviving row.
# A failed round is reported and the next one still runs.
failed=0
round() {
	local name=$1 sql_a=$2 sql_b=$3 oldest default defaults want
	read -r oldest default < <(q "
		DELETE FROM registry;
		INSERT INTO registry (address, provider, namespace)
		SELECT 'https://r' || i, 'native', 'ns' FROM generate_series(1, 4) AS i;
		UPDATE registry SET is_default = true WHERE address = 'https://r3';
		SELECT (SELECT id FROM registry WHERE address = 'https://r1') || ' ' || (SELECT id FROM registry WHERE is_default)")
	sql_a=${sql_a//@oldest/$oldest}; sql_a=${sql_a//@default/$default}
	sql_b=${sql_b//@oldest/$oldest}; sql_b=${sql_b//@default/$default}

	gate_close
	session_start "$name-A" "$sql_a"
	session_start "$name-B" "$sql_b"
	gate_open 2
	if ! session_wait_all; then
		echo "round $name: a session failed"
		failed=1
		return
	fi

	read -r defaults want < <(q "
		SELECT coalesce((SELECT string_agg(address, ',') FROM registry WHERE is_default), '(none)') || ' ' ||
		       coalesce((SELECT address FROM registry ORDER BY created_at, id LIMIT 1), '(none)')")
	if [ "$defaults" != "$want" ]; then
		echo "round $name: default is $defaults, want the oldest remaining row $want"
		failed=1
		return
	fi
	echo "round $name: ok, default $defaults"
}

round default-first \
	"DELETE FROM registry WHERE id = '@default'; SELECT pg_sleep(0.1);" \
	"SELECT pg_sleep(0.03); DELETE FROM registry WHERE id = '@oldest';"
round oldest-first \
	"SELECT pg_sleep(0.03); DELETE FROM registry WHERE id = '@default';" \
	"DELETE FROM registry WHERE id = '@oldest'; SELECT pg_sleep(0.1);"
round same-time \
	"DELETE FROM registry WHERE id = '@default'; SELECT pg_sleep(0.03);" \
	"DELETE FROM registry WHERE id = '@oldest'; SELECT pg_sleep(0.03);"
round crossed \
	"DELETE FROM registry WHERE id = '@oldest'; SELECT pg_sleep(0.1); DELETE FROM registry WHERE id = '@default';" \
	"SELECT pg_sleep(0.03); DELETE FROM registry WHERE id = '@default';"
exit "$failed"
