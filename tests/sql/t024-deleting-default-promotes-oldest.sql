-- t024: deleting the default makes the oldest remaining row (by created_at, then id) the default.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text := pg_temp.add('https://c');
	d text := pg_temp.add('https://d');
	e text := pg_temp.add('https://e');
BEGIN
	UPDATE registry SET is_default = true WHERE id = c;
	ASSERT pg_temp.the_default() = c;
	DELETE FROM registry WHERE id = c;
	ASSERT pg_temp.the_default() = a, format('default is %s, want oldest a %s', pg_temp.defaults(), a);
	DELETE FROM registry WHERE id = a;
	ASSERT pg_temp.the_default() = b, format('default is %s, want oldest b %s', pg_temp.defaults(), b);

	-- Oldest means smallest created_at, not first inserted: back-date e, the last row inserted.
	ALTER TABLE registry DISABLE TRIGGER registry_before_update;
	UPDATE registry SET created_at = created_at - interval '1 hour' WHERE id = e;
	ALTER TABLE registry ENABLE TRIGGER registry_before_update;
	UPDATE registry SET is_default = true WHERE id = d;
	DELETE FROM registry WHERE id = d;
	ASSERT pg_temp.the_default() = e, format('default is %s, want back-dated e %s', pg_temp.defaults(), e);

	-- Equal created_at: the smaller id wins.
	ALTER TABLE registry DISABLE TRIGGER registry_before_update;
	UPDATE registry SET created_at = '2020-01-01';
	ALTER TABLE registry ENABLE TRIGGER registry_before_update;
	UPDATE registry SET is_default = true WHERE id = greatest(b, e);
	DELETE FROM registry WHERE id = greatest(b, e);
	ASSERT pg_temp.the_default() = least(b, e), 'tie on created_at not broken by id';

	DELETE FROM registry WHERE id = least(b, e);
	ASSERT pg_temp.the_default() IS NULL, 'empty table has a default';
END
$$;
