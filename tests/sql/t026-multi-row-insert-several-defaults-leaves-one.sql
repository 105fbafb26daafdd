-- t026: one INSERT of many rows, several with is_default = true, leaves exactly one default (empty table or not).
\ir lib/helpers.sql
DO $$
DECLARE
	old_default text;
BEGIN
	INSERT INTO registry (address, provider, namespace, is_default)
	VALUES ('https://a', 'native', 'ns', false), ('https://b', 'native', 'ns', true),
	       ('https://c', 'native', 'ns', false), ('https://d', 'native', 'ns', true);
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://d',
		'the last row asking to be default should win in a VALUES list';

	old_default := pg_temp.the_default();
	INSERT INTO registry (address, provider, namespace, is_default)
	SELECT 'https://m' || i, 'native', 'ns', i % 3 = 0 FROM generate_series(1, 100) AS i;
	PERFORM pg_temp.the_default();
	ASSERT NOT (SELECT is_default FROM registry WHERE id = old_default), 'old default kept';

	-- None asking: the existing default stays.
	old_default := pg_temp.the_default();
	INSERT INTO registry (address, provider, namespace)
	SELECT 'https://n' || i, 'native', 'ns' FROM generate_series(1, 10) AS i;
	ASSERT pg_temp.the_default() = old_default, 'default moved';
END
$$;

-- COPY runs the same row triggers (pg_restore loads data this way).
DELETE FROM registry;
COPY registry (address, provider, namespace, is_default) FROM stdin;
https://c1	native	ns	f
https://c2	native	ns	t
https://c3	native	ns	f
https://c4	native	ns	t
https://c5	native	ns	f
\.
DO $$
BEGIN
	ASSERT (SELECT count(*) FROM registry) = 5;
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://c4', 'COPY: c4 should be the default';
END
$$;
