-- t026: one INSERT or COPY of many rows may make one of them the default; asking for two is refused, whatever the
-- row order, and leaves the table as it was.
\ir lib/helpers.sql
DO $$
DECLARE
	old_default text;
BEGIN
	PERFORM pg_temp.expect_error($q$INSERT INTO registry (address, provider, namespace, is_default)
	VALUES ('https://a', 'native', 'ns', false), ('https://b', 'native', 'ns', true),
	       ('https://c', 'native', 'ns', false), ('https://d', 'native', 'ns', true)$q$, '23505', 'registry_one_default');
	ASSERT (SELECT count(*) FROM registry) = 0, 'a refused INSERT left rows';

	INSERT INTO registry (address, provider, namespace, is_default)
	VALUES ('https://a', 'native', 'ns', false), ('https://b', 'native', 'ns', true), ('https://c', 'native', 'ns', false);
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://b', 'b asked to be the default';

	old_default := pg_temp.the_default();
	PERFORM pg_temp.expect_error($q$INSERT INTO registry (address, provider, namespace, is_default)
	SELECT 'https://m' || i, 'native', 'ns', i % 3 = 0 FROM generate_series(1, 100) AS i$q$, '23505', 'registry_one_default');
	ASSERT pg_temp.the_default() = old_default AND (SELECT count(*) FROM registry) = 3, 'a refused INSERT changed the table';
	INSERT INTO registry (address, provider, namespace, is_default)
	SELECT 'https://m' || i, 'native', 'ns', i = 50 FROM generate_series(1, 100) AS i;
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://m50', 'm50 asked to be the default';

	-- None asking: the existing default stays.
	old_default := pg_temp.the_default();
	INSERT INTO registry (address, provider, namespace)
	SELECT 'https://n' || i, 'native', 'ns' FROM generate_series(1, 10) AS i;
	ASSERT pg_temp.the_default() = old_default, 'default moved';
END
$$;

-- COPY runs the same row triggers.
DELETE FROM registry;
\set ON_ERROR_STOP off
COPY registry (address, provider, namespace, is_default) FROM stdin;
https://c1	native	ns	f
https://c2	native	ns	t
https://c4	native	ns	t
\.
\set ON_ERROR_STOP on
COPY registry (address, provider, namespace, is_default) FROM stdin;
https://c1	native	ns	f
https://c2	native	ns	f
https://c4	native	ns	t
https://c5	native	ns	f
\.
DO $$
BEGIN
	ASSERT (SELECT count(*) FROM registry) = 4, 'the COPY asking for two defaults was not refused';
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://c4', 'COPY: c4 should be the default';
END
$$;
