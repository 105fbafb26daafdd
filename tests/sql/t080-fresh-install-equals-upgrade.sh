# t080: a fresh install and an upgrade from the last release give the same schema (pg_dump --schema-only), and
# migrating again changes nothing. The release's sql/ comes from git (the commit below, the last one whose schema
# databases in the field have): its numbered files applied as its migrator did (each file and its schema_migration
# row in one transaction), then today's `imagereg migrate`.
# Needs PGDATABASE (unused), PGHOST/PGPORT/PGUSER of a server where the caller may create databases.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
release=c226ea1393a7d3b13fb2f8ea20796303c5711b47   # main before sql/functions/ (2026-11-30 release)
migrate="$repo/cgi/imagereg migrate --dir $repo/sql"
tmp=$(mktemp -d)
fresh="imagereg_t080_fresh_$$" upgraded="imagereg_t080_upgraded_$$"
trap 'dropdb --if-exists --force "$fresh" 2>/dev/null; dropdb --if-exists --force "$upgraded" 2>/dev/null; rm -rf "$tmp"' EXIT

git -C "$repo" cat-file -e "$release^{commit}" 2>/dev/null \
	|| { echo "the release commit $release is not in this clone (a shallow clone or a tarball?)"; exit 1; }

createdb "$fresh"
PGDATABASE="$fresh" env -u IMAGEREG_DSN -u IMAGEREG_ADMIN_DSN $migrate >"$tmp/fresh.log"

createdb "$upgraded"
for f in $(git -C "$repo" ls-tree --name-only "$release" sql/ | grep -E '^sql/[0-9]{3}_.*\.sql$' | sort); do
	v=$(basename "$f" .sql)
	git -C "$repo" show "$release:$f" >"$tmp/$v.sql"
	psql -X -q -v ON_ERROR_STOP=1 -d "$upgraded" -1 -f "$tmp/$v.sql" \
		-c "INSERT INTO schema_migration (version) VALUES ('$v')" >/dev/null
done
PGDATABASE="$upgraded" env -u IMAGEREG_DSN -u IMAGEREG_ADMIN_DSN $migrate >"$tmp/upgrade.log"
grep -q 'applied 006_hardening' "$tmp/upgrade.log" || { echo "the upgrade did not apply 006:"; cat "$tmp/upgrade.log"; exit 1; }

# dump DB [pg_dump options]: the schema, without the random key of pg_dump's \restrict lines.
dump() {
	local db=$1
	shift
	pg_dump --schema-only "$@" -d "$db" | grep -v '^\\\(un\)\?restrict '
}

dump "$fresh" --no-comments >"$tmp/fresh.sql"
dump "$upgraded" --no-comments >"$tmp/upgraded.sql"
if ! diff -u --label fresh --label upgraded "$tmp/fresh.sql" "$tmp/upgraded.sql"; then
	echo "a fresh install and an upgrade from $release differ"
	exit 1
fi
# Comments too (pg_dump keeps them with their objects; compared apart so a difference says which).
dump "$fresh" | grep '^COMMENT ON' >"$tmp/fresh.comments"
dump "$upgraded" | grep '^COMMENT ON' >"$tmp/upgraded.comments"
diff -u --label fresh --label upgraded "$tmp/fresh.comments" "$tmp/upgraded.comments" \
	|| { echo "comments differ"; exit 1; }

# Migrating again is a no-op for the schema.
PGDATABASE="$fresh" env -u IMAGEREG_DSN -u IMAGEREG_ADMIN_DSN $migrate >/dev/null
dump "$fresh" >"$tmp/again.sql"
dump "$upgraded" >"$tmp/upgraded-all.sql"
diff -q "$tmp/again.sql" "$tmp/upgraded-all.sql" >/dev/null || { echo "a second migrate changed the schema"; exit 1; }
echo "fresh install = upgrade from ${release:0:7}: $(grep -c '^CREATE' "$tmp/fresh.sql") CREATE statements"
