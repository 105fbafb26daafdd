-- t025: deleting rows that are not the default leaves the default where it is.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text := pg_temp.add('https://c');
	d text := pg_temp.add('https://d');
BEGIN
	UPDATE registry SET is_default = true WHERE id = c;
	DELETE FROM registry WHERE id = a;   -- the oldest
	ASSERT pg_temp.the_default() = c, format('default is %s, want c %s', pg_temp.defaults(), c);
	DELETE FROM registry WHERE id IN (b, d);
	ASSERT pg_temp.the_default() = c, format('default is %s, want c %s', pg_temp.defaults(), c);
	DELETE FROM registry WHERE id = 'ffffffffffffffffffffffff';  -- no row
	ASSERT pg_temp.the_default() = c, 'deleting nothing moved the default';
END
$$;
