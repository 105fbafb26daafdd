-- t028: if the table has rows but no default (triggers were off), the next inserted row becomes the default.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text;
BEGIN
	ALTER TABLE registry DISABLE TRIGGER USER;
	UPDATE registry SET is_default = false;
	ALTER TABLE registry ENABLE TRIGGER USER;
	ASSERT cardinality(pg_temp.defaults()) = 0, 'setup: still a default';

	c := pg_temp.add('https://c');
	ASSERT pg_temp.the_default() = c, format('default is %s, want the new row %s', pg_temp.defaults(), c);
END
$$;

-- Any top-level UPDATE or DELETE heals it as well, by promoting the oldest row.
DO $$
DECLARE
	a text := (SELECT id FROM registry WHERE address = 'https://a');
BEGIN
	ALTER TABLE registry DISABLE TRIGGER USER;
	UPDATE registry SET is_default = false;
	ALTER TABLE registry ENABLE TRIGGER USER;
	UPDATE registry SET namespace = 'x' WHERE address = 'https://b';
	ASSERT pg_temp.the_default() = a, format('UPDATE: default is %s, want oldest %s', pg_temp.defaults(), a);

	ALTER TABLE registry DISABLE TRIGGER USER;
	UPDATE registry SET is_default = false;
	ALTER TABLE registry ENABLE TRIGGER USER;
	DELETE FROM registry WHERE address = 'https://none';
	ASSERT pg_temp.the_default() = a, format('DELETE: default is %s, want oldest %s', pg_temp.defaults(), a);
END
$$;
