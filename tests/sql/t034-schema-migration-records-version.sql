-- t034: the migration recorded itself as 001_registry in schema_migration, and a second record of it is refused.
\ir lib/helpers.sql
DO $$
BEGIN
	ASSERT EXISTS (SELECT 1 FROM schema_migration WHERE version = '001_registry' AND applied_at <= now()),
		format('schema_migration holds %s', (SELECT array_agg(version) FROM schema_migration));
	PERFORM pg_temp.expect_error($q$INSERT INTO schema_migration (version) VALUES ('001_registry')$q$,
		'23505', 'schema_migration_pkey');
END
$$;
