-- t033: registry_oldest_first indexes (created_at, id), and the promotion query can use it.
\ir lib/helpers.sql
DO $$
DECLARE
	def text := pg_get_indexdef('registry_oldest_first'::regclass);
	plan text := '';
	line text;
BEGIN
	ASSERT def LIKE '% ON %registry USING btree (created_at, id)', format('unexpected definition: %s', def);
	SET LOCAL enable_seqscan = off;
	SET LOCAL enable_sort = off;
	FOR line IN EXECUTE 'EXPLAIN SELECT id FROM registry ORDER BY created_at, id LIMIT 1' LOOP
		plan := plan || line || E'\n';
	END LOOP;
	ASSERT plan LIKE '%registry_oldest_first%', format('plan does not use the index: %s', plan);
END
$$;
