-- t022: UPDATE ... SET is_default = true on another row moves the default there when the statement ends.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text := pg_temp.add('https://c');
BEGIN
	ASSERT pg_temp.the_default() = a;
	UPDATE registry SET is_default = true WHERE id = b;
	ASSERT pg_temp.the_default() = b, format('default is %s, want b %s', pg_temp.defaults(), b);
	-- Together with other changes, and back again.
	UPDATE registry SET is_default = true, namespace = 'moved' WHERE id = c;
	ASSERT pg_temp.the_default() = c, format('default is %s, want c %s', pg_temp.defaults(), c);
	ASSERT (SELECT namespace FROM registry WHERE id = c) = 'moved', 'other change lost';
	UPDATE registry SET is_default = true WHERE id = a;
	ASSERT pg_temp.the_default() = a, format('default is %s, want a %s', pg_temp.defaults(), a);
	-- Setting it on the default itself changes nothing.
	UPDATE registry SET is_default = true WHERE id = a;
	ASSERT pg_temp.the_default() = a, 'default moved away from a';
END
$$;
