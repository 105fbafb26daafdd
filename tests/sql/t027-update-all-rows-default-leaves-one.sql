-- t027: UPDATE registry SET is_default = true over all (or several) rows succeeds and leaves exactly one default.
\ir lib/helpers.sql
DO $$
DECLARE
	n int;
	old_default text;
BEGIN
	FOR i IN 1..20 LOOP
		PERFORM pg_temp.add('https://r' || i);
	END LOOP;
	-- Put the default in the middle of the physical order, so the statement meets rows on both sides of it.
	UPDATE registry SET is_default = true WHERE address = 'https://r10';
	old_default := pg_temp.the_default();

	UPDATE registry SET is_default = true;
	GET DIAGNOSTICS n = ROW_COUNT;
	ASSERT n = 20, format('UPDATE touched %s rows', n);
	PERFORM pg_temp.the_default();

	-- A subset that includes the current default, and one that does not.
	UPDATE registry SET is_default = true WHERE address IN ('https://r3', 'https://r5', 'https://r7');
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) IN ('https://r3', 'https://r5', 'https://r7'),
		'default is not one of the rows asked for';
	UPDATE registry SET is_default = true WHERE address IN ('https://r1', 'https://r2')
	                                          OR id = pg_temp.the_default();
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) IN ('https://r1', 'https://r2'),
		'default is not one of the rows newly asked for';
END
$$;
