# t041: sql/CONSTRAINTS.txt names exactly the constraints of the migrated database, with the messages that the header
# blocks of the migrations and the constraints' COMMENTs give, so the C side's copy of the list cannot miss one.
# Needs PGDATABASE (a migrated database).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
txt="$repo/sql/CONSTRAINTS.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# Every line is name<TAB>message, name an identifier, message non-empty, names unique.
if bad=$(grep -nvP '^[a-z_][a-z0-9_]*\t[^\t]*\S[^\t]*$' "$txt"); then
	echo "malformed lines in CONSTRAINTS.txt:"; echo "$bad"; exit 1
fi
cut -f1 "$txt" | LC_ALL=C sort >"$tmp/txt-names"
if dup=$(uniq -d "$tmp/txt-names") && [ -n "$dup" ]; then
	echo "duplicate names in CONSTRAINTS.txt: $dup"; exit 1
fi

# Names a client can meet: constraints of registry, registry_idempotency and schema_migration, unique indexes of
# registry that are not constraints (registry_one_default), and the constraint names functions raise (RAISE ...
# CONSTRAINT = '...').
psql -X -q -A -t -v ON_ERROR_STOP=1 >"$tmp/db-names" <<'SQL'
SELECT conname FROM pg_constraint
WHERE conrelid IN ('registry'::regclass, 'registry_idempotency'::regclass, 'schema_migration'::regclass)
  AND contype IN ('c', 'p', 'u', 'x', 'f')
UNION
SELECT i.indexrelid::regclass::text FROM pg_index i
WHERE i.indrelid = 'registry'::regclass AND i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
UNION
SELECT m[1] FROM pg_proc p, regexp_matches(p.prosrc, 'CONSTRAINT\s*=\s*''([a-z0-9_]+)''', 'g') AS m
WHERE p.pronamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'registry'::regclass);
SQL
LC_ALL=C sort -o "$tmp/db-names" "$tmp/db-names"
if ! diff -u --label database --label CONSTRAINTS.txt "$tmp/db-names" "$tmp/txt-names"; then
	echo "CONSTRAINTS.txt and the database disagree (- only in the database, + only in the file)"
	status=1
fi

# Header blocks of the migrations ("--   name   message" lines after "-- Constraint names and their client
# messages"): for each name still in CONSTRAINTS.txt the message must be the same. Later migrations may drop names.
for f in "$repo"/sql/[0-9]*.sql; do
	sed -n '/^-- Constraint names and their client messages/,/^[^-]/p' "$f" |
		sed -n 's/^--   \([a-z_][a-z0-9_]*\)  *\(.*\)$/\1\t\2/p' >"$tmp/block"
	while IFS=$'\t' read -r name msg; do
		want=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$txt")
		if [ -n "$want" ] && [ "$want" != "$msg" ]; then
			echo "$(basename "$f"): $name says '$msg', CONSTRAINTS.txt says '$want'"
			status=1
		fi
	done <"$tmp/block"
done

# Each message appears in the COMMENT of its constraint (or unique index) as "Client message: <message>".
# registry_id_immutable and registry_idempotency_key_reused are raised by functions; schema_migration_pkey is not
# client-facing.
while IFS=$'\t' read -r name msg; do
	case $name in
	schema_migration_pkey | registry_id_immutable | registry_idempotency_key_reused) continue ;;
	esac
	found=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -v name="$name" -v msg="Client message: $msg" <<'SQL'
SELECT count(*) FROM (
	SELECT obj_description(oid, 'pg_constraint') AS d FROM pg_constraint WHERE conname = :'name'
	UNION ALL SELECT obj_description(oid, 'pg_class') FROM pg_class WHERE relname = :'name' AND relkind = 'i'
) s WHERE strpos(d, :'msg') > 0;
SQL
)
	if [ "$found" -lt 1 ]; then
		echo "COMMENT of $name does not contain: Client message: $msg"
		status=1
	fi
done <"$txt"
[ "$status" -eq 0 ] && echo "constraint lists agree: $(wc -l <"$txt") names"
exit "$status"
