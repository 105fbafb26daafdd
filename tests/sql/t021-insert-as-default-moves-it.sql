-- t021: inserting a row with is_default = true moves the default to it at once (RETURNING shows true).
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text;
	d boolean;
BEGIN
	ASSERT pg_temp.the_default() = a;
	INSERT INTO registry (address, provider, namespace, is_default) VALUES ('https://c', 'native', 'ns', true)
	RETURNING id, is_default INTO c, d;
	ASSERT d, 'RETURNING shows the new default as false';
	ASSERT pg_temp.the_default() = c, format('default is %s, want %s', pg_temp.defaults(), c);
	ASSERT NOT (SELECT is_default FROM registry WHERE id = a), 'old default kept is_default';
END
$$;
