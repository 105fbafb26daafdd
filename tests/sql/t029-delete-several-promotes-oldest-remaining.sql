-- t029: one DELETE removing the default and the oldest rows promotes the oldest row that is left.
\ir lib/helpers.sql
DO $$
DECLARE
	ids text[] := ARRAY[]::text[];
BEGIN
	FOR i IN 1..6 LOOP
		ids := ids || pg_temp.add('https://r' || i);
	END LOOP;
	UPDATE registry SET is_default = true WHERE id = ids[5];
	DELETE FROM registry WHERE id IN (ids[1], ids[2], ids[5]);
	ASSERT pg_temp.the_default() = ids[3], format('default is %s, want %s', pg_temp.defaults(), ids[3]);
	DELETE FROM registry WHERE id <> ids[6];
	ASSERT pg_temp.the_default() = ids[6], format('default is %s, want the last row %s', pg_temp.defaults(), ids[6]);
	DELETE FROM registry;
	ASSERT pg_temp.the_default() IS NULL;
END
$$;
