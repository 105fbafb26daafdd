# t075: the registry triggers NOTIFY imagereg_change with registry:<ids> per statement (insert, update, delete, the
# default move's second row), and with registry when a statement changed more than 300 rows or truncated.
# Needs PGDATABASE (a migrated database). psql prints each notification it receives after a command.
set -eu
out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
LISTEN imagereg_change;
INSERT INTO registry (address, provider, namespace) VALUES ('https://t075-a.example.com', 'harbor', 'a');
INSERT INTO registry (address, provider, namespace) VALUES ('https://t075-b.example.com', 'harbor', 'b');
UPDATE registry SET is_default = true WHERE namespace = 'b';
DELETE FROM registry WHERE namespace = 'a';
INSERT INTO registry (address, provider, namespace) SELECT 'https://t075.example.com', 'harbor', 'p' || g FROM generate_series(1, 300) g;
INSERT INTO registry (address, provider, namespace) SELECT 'https://t075.example.com', 'harbor', 'q' || g FROM generate_series(1, 301) g;
UPDATE registry SET region = '' WHERE false;
SELECT 'end';
SQL
)
payloads=$(grep -o 'with payload "[^"]*"' <<<"$out" | cut -d'"' -f2)
ids() { psql -X -q -A -t -c "SELECT id FROM registry WHERE namespace = '$1'"; }
a=$(psql -X -q -A -t -c "SELECT count(*) FROM registry WHERE namespace = 'a'")
b=$(ids b)
status=0
check() {	# check N EXPECTED: the Nth payload
	local got
	got=$(sed -n "$1p" <<<"$payloads")
	if [[ $got == $2 ]]; then echo "ok - payload $1"; else echo "not ok - payload $1: got '${got:0:80}', want $2"; status=1; fi
}
[ "$a" = 0 ] || { echo "not ok - row a was not deleted"; status=1; }
check 1 'registry:[0-9a-f]*'                      # insert a (it became the default)
check 2 "registry:$b"                             # insert b
check 3 "registry:$b"                             # b made default: b ...
check 4 'registry:[0-9a-f]*'                      # ... and a, which lost it (the trigger's own UPDATE)
check 5 'registry:[0-9a-f]*'                      # delete a
n6=$(sed -n 6p <<<"$payloads" | tr ',' '\n' | wc -l)
if [ "$n6" = 300 ]; then echo "ok - 300 rows are named"; else echo "not ok - 300-row insert named $n6 ids"; status=1; fi
check 7 'registry'                                # 301 rows: the table
count=$(wc -l <<<"$payloads")
if [ "$count" = 7 ]; then echo "ok - a statement that changed nothing notifies nobody"; else echo "not ok - $count notifications, want 7"; status=1; fi
exit $status
