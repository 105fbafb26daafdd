-- t009: registry_namespace_required: non-ecr rows need a namespace with a non-white-space character; ecr rows do not.
\ir lib/helpers.sql
DO $$
DECLARE
	ns text;
BEGIN
	FOREACH ns IN ARRAY ARRAY['', ' ', '   ', E'\t', E'\n', E' \t\r\n'] LOOP
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (address, provider, namespace) VALUES ('https://r', 'harbor', %L)$q$, ns),
			'registry_namespace_required');
	END LOOP;
	-- Omitted: the default '' is rejected too.
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider) VALUES ('https://r', 'native')$q$,
		'registry_namespace_required');
	-- Emptied by an UPDATE.
	PERFORM pg_temp.expect_check(
		format($q$UPDATE registry SET namespace = '' WHERE id = %L$q$, pg_temp.add()),
		'registry_namespace_required');
	-- Changing the provider away from ecr while the namespace is empty.
	INSERT INTO registry (address, provider, region) VALUES ('https://ecr', 'ecr', 'eu-west-1');
	PERFORM pg_temp.expect_check(
		$q$UPDATE registry SET provider = 'native' WHERE address = 'https://ecr'$q$,
		'registry_namespace_required');

	-- Accepted.
	INSERT INTO registry (address, provider, namespace) VALUES ('https://x', 'native', 'x');
	INSERT INTO registry (address, provider, namespace) VALUES ('https://y', 'native', 'in ner');
	-- The API trims namespace, so surrounding white space is not something it stores (sql/006).
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace) VALUES ('https://y', 'native', ' padded ')$q$,
		'registry_namespace_trimmed');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, region) VALUES ('https://y', 'native', 'ns', E'eu\t')$q$,
		'registry_region_trimmed');
	INSERT INTO registry (address, provider, namespace, region) VALUES ('https://z', 'ecr', '', 'us-east-1');
	ASSERT (SELECT count(*) FROM registry) = 5, 'accepted rows missing';
END
$$;
