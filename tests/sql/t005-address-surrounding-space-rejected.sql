-- t005: registry_address_has_no_surrounding_space rejects leading/trailing space, tab, CR, LF, VT, FF; inner text is not its business.
\ir lib/helpers.sql
DO $$
DECLARE
	ws text;
BEGIN
	FOREACH ws IN ARRAY ARRAY[' ', E'\t', E'\n', E'\r', chr(11), E'\f'] LOOP
		-- Trailing white space after a path: only this constraint is broken.
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (address, provider, namespace) VALUES (%L, 'native', 'ns')$q$,
			       'https://r.example.com/' || ws),
			'registry_address_has_no_surrounding_space');
		-- Leading white space also breaks registry_address_is_http_url; the name order makes this one win.
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (address, provider, namespace) VALUES (%L, 'native', 'ns')$q$,
			       ws || 'https://r.example.com'),
			'registry_address_has_no_surrounding_space');
	END LOOP;
	-- The same on UPDATE.
	PERFORM pg_temp.expect_check(
		format($q$UPDATE registry SET address = 'https://r.example.com ' WHERE id = %L$q$, pg_temp.add()),
		'registry_address_has_no_surrounding_space');
END
$$;
