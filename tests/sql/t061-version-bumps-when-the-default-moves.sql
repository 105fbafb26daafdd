-- t061: a default move changes both rows it touches, so both get a new version: the row that gains the default
-- and the row that loses it, by UPDATE, by INSERT ... is_default, and by deleting the default (the promoted row).
\ir lib/helpers.sql
CREATE FUNCTION pg_temp.v(rid text) RETURNS bigint LANGUAGE sql AS $$ SELECT version FROM registry WHERE id = rid $$;
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text := pg_temp.add('https://c');
	va bigint; vb bigint; vc bigint;
BEGIN
	ASSERT pg_temp.the_default() = a;
	va := pg_temp.v(a); vb := pg_temp.v(b); vc := pg_temp.v(c);
	UPDATE registry SET is_default = true WHERE id = b;
	ASSERT pg_temp.the_default() = b;
	ASSERT pg_temp.v(a) > va, format('a lost the default but kept version %s', va);
	ASSERT pg_temp.v(b) > vb, format('b gained the default but kept version %s', vb);
	ASSERT pg_temp.v(c) = vc, 'c was not touched but its version moved';

	-- An insert that takes the default changes the old default.
	vb := pg_temp.v(b);
	PERFORM pg_temp.add('https://d', true);
	ASSERT pg_temp.v(b) > vb, 'b lost the default to an insert but kept its version';

	-- Deleting the default promotes the oldest row: a, whose version moves.
	va := pg_temp.v(a);
	DELETE FROM registry WHERE id = pg_temp.the_default();
	ASSERT pg_temp.the_default() = a;
	ASSERT pg_temp.v(a) > va, 'a was promoted but kept its version';

	-- Un-defaulting the default is ignored, and so the row did not change: same version.
	va := pg_temp.v(a);
	UPDATE registry SET is_default = false WHERE id = a;
	ASSERT pg_temp.the_default() = a AND pg_temp.v(a) = va, 'ignored un-default moved the version';
END
$$;
