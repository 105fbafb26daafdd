-- t027: an UPDATE that asks several rows to be default is refused, whatever the row order; one row asking moves it.
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

	PERFORM pg_temp.expect_error('UPDATE registry SET is_default = true', '23505', 'registry_one_default');
	ASSERT pg_temp.the_default() = old_default, 'a refused UPDATE moved the default';
	PERFORM pg_temp.expect_error($q$UPDATE registry SET is_default = true WHERE address IN ('https://r3', 'https://r5')$q$,
		'23505', 'registry_one_default');
	-- The current default keeping is_default = true asks too.
	PERFORM pg_temp.expect_error($q$UPDATE registry SET is_default = true WHERE address = 'https://r1' OR id = $q$
		|| quote_literal(old_default), '23505', 'registry_one_default');
	ASSERT pg_temp.the_default() = old_default, 'a refused UPDATE moved the default';

	UPDATE registry SET is_default = true WHERE address = 'https://r7';
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://r7', 'r7 asked to be the default';
	-- Every row touched, one of them asking: fine.
	UPDATE registry SET is_default = (address = 'https://r2'), namespace = 'all';
	GET DIAGNOSTICS n = ROW_COUNT;
	ASSERT n = 20, format('UPDATE touched %s rows', n);
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://r2', 'r2 asked to be the default';
END
$$;
