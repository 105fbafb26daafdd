-- t020: the first row inserted into an empty table becomes the default even if it asked not to be; later rows do not.
\ir lib/helpers.sql
DO $$
DECLARE
	a text;
	b text;
	c text;
	d boolean;
BEGIN
	INSERT INTO registry (address, provider, namespace, is_default) VALUES ('https://a', 'native', 'ns', false)
	RETURNING id, is_default INTO a, d;
	ASSERT d, 'RETURNING does not show the first row as default';
	ASSERT pg_temp.the_default() = a, 'first row is not the default';
	b := pg_temp.add('https://b');
	c := pg_temp.add('https://c');
	ASSERT pg_temp.the_default() = a, 'a later insert took the default';

	-- Emptied and filled again: the first new row is the default again.
	DELETE FROM registry;
	ASSERT pg_temp.the_default() IS NULL, 'empty table has a default';
	b := pg_temp.add('https://b');
	ASSERT pg_temp.the_default() = b, 'first row after emptying is not the default';
END
$$;
