-- t032: registry_one_default is a unique index on (true) WHERE is_default, and refuses a second default when the triggers are off.
\ir lib/helpers.sql
DO $$
DECLARE
	idx record;
BEGIN
	SELECT i.indisunique, pg_get_expr(i.indpred, i.indrelid) AS pred, pg_get_indexdef(i.indexrelid) AS def
	INTO idx
	FROM pg_index i
	WHERE i.indexrelid = 'registry_one_default'::regclass AND i.indrelid = 'registry'::regclass;
	ASSERT FOUND, 'index registry_one_default on registry missing';
	ASSERT idx.indisunique, 'registry_one_default is not unique';
	ASSERT idx.pred = 'is_default', format('predicate is %s', idx.pred);
	ASSERT idx.def LIKE '%((true))%', format('index is not on (true): %s', idx.def);

	PERFORM pg_temp.add('https://a', true);
	ALTER TABLE registry DISABLE TRIGGER USER;
	PERFORM pg_temp.expect_error(
		$q$INSERT INTO registry (address, provider, namespace, is_default) VALUES ('https://b', 'native', 'ns', true)$q$,
		'23505', 'registry_one_default');
	PERFORM pg_temp.add('https://c', false);
	PERFORM pg_temp.expect_error($q$UPDATE registry SET is_default = true WHERE address = 'https://c'$q$,
		'23505', 'registry_one_default');
	ALTER TABLE registry ENABLE TRIGGER USER;
END
$$;
