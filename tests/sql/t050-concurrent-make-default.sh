# t050: 32 sessions each make a different row default in transactions that overlap: all succeed, and exactly one
# default remains -- the row of the session that committed last. Without the writer lock most of them fail with 23505.
set -eu
. "$(dirname "$0")/lib/sessions.sh"
n=32

q "INSERT INTO registry (address, provider, namespace)
   SELECT 'https://r' || i || '.example.com', 'native', 'ns' FROM generate_series(0, $n) AS i" >/dev/null
mapfile -t ids < <(q "SELECT id FROM registry WHERE NOT is_default ORDER BY created_at, id")
[ "${#ids[@]}" -eq "$n" ] || { echo "setup: ${#ids[@]} non-default rows, want $n"; exit 1; }
t0=$(q "SELECT extract(epoch FROM clock_timestamp())")

# All n transactions are open and waiting at the gate when it opens. Each holds the writer lock for 100 ms after
# its UPDATE, so the updates have to wait for one another, and the first commit comes late enough for the other
# sessions to be scheduled past the gate on a loaded machine (with 20 ms, 14 of 32 once made it in time).
gate_close
for i in "${!ids[@]}"; do
	session_start "s$i" "UPDATE registry SET is_default = true WHERE id = '${ids[i]}'; SELECT pg_sleep(0.1);"
done
gate_open "$n"
session_wait_all || { echo "not every session succeeded"; exit 1; }

# They overlapped: count the sessions that were past the gate before the first one committed; find the last to commit.
read -r overlapping last_session < <(awk '
	/^start / { start[FILENAME] = $2 }
	/^end /   { end[FILENAME] = $2 }
	END {
		for (f in end) if (first == "" || end[f] < first) first = end[f]
		for (f in start) {
			if (start[f] < first) n++
			if (last == "" || end[f] > end[last]) last = f
		}
		sub(/.*\//, "", last); sub(/\.out$/, "", last)
		print n + 0, last
	}' "$SESSION_DIR"/s*.out)
last=${ids[${last_session#s}]}
echo "$overlapping of $n sessions were running before the first one committed"
[ "$overlapping" -ge $((n / 2)) ] || { echo "too little overlap to prove anything; is the machine overloaded?"; exit 1; }

defaults=$(q "SELECT string_agg(id, ',') FROM registry WHERE is_default")
[ "$defaults" = "$last" ] || { echo "defaults: '$defaults', want only the last committer's row $last"; exit 1; }
# The rows of the n sessions, plus the original default (cleared by the first session).
bumped=$(q "SELECT count(*) FROM registry WHERE updated_at > to_timestamp($t0)")
[ "$bumped" -eq $((n + 1)) ] || { echo "$bumped rows updated by the sessions, want $((n + 1))"; exit 1; }
echo "exactly one default: $last"
