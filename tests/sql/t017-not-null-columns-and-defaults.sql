-- t017: NULL in a NOT NULL column fails with 23502 naming the column (whatever the triggers do); omitted columns take their defaults.
\ir lib/helpers.sql
DO $$
DECLARE
	-- A valid value for every NOT NULL column; each INSERT below replaces one of them with NULL.
	valid constant text[][] := ARRAY[
		['id', 'imagereg_object_id()'], ['address', $v$'https://r'$v$], ['provider', $v$'native'$v$],
		['namespace', $v$'ns'$v$], ['region', $v$''$v$], ['is_default', 'false'], ['enable_tls', 'false'],
		['created_at', 'now()'], ['updated_at', 'now()']];
	col text;
	r registry;
BEGIN
	-- Into an empty table (where the insert trigger would make a row default) and into one with a default.
	FOR i IN 1..2 LOOP
		FOR c IN 1..array_length(valid, 1) LOOP
			col := valid[c][1];
			PERFORM pg_temp.expect_error(
				format('INSERT INTO registry (%s) VALUES (%s)',
				       (SELECT string_agg(quote_ident(valid[k][1]), ', ') FROM generate_series(1, array_length(valid, 1)) k),
				       (SELECT string_agg(CASE WHEN k = c THEN 'NULL' ELSE valid[k][2] END, ', ')
				        FROM generate_series(1, array_length(valid, 1)) k)),
				'23502', NULL, col);
		END LOOP;
		PERFORM pg_temp.add();
	END LOOP;
	-- On UPDATE: the columns the update trigger does not set itself.
	FOREACH col IN ARRAY ARRAY['address', 'provider', 'namespace', 'region', 'is_default', 'enable_tls'] LOOP
		PERFORM pg_temp.expect_error(format($q$UPDATE registry SET %I = NULL$q$, col), '23502', NULL, col);
	END LOOP;

	DELETE FROM registry;
	INSERT INTO registry (address, provider, namespace) VALUES ('https://r', 'native', 'ns') RETURNING * INTO r;
	ASSERT r.region = '' AND r.is_default AND NOT r.enable_tls
	       AND r.tls_cert IS NULL,
		format('unexpected defaults: %s', r);
	ASSERT r.created_at BETWEEN now() AND clock_timestamp() AND r.updated_at BETWEEN now() AND clock_timestamp(),
		format('timestamps %s / %s not taken during this transaction', r.created_at, r.updated_at);
	INSERT INTO registry (address, provider, region) VALUES ('https://r', 'ecr', 'us-east-1') RETURNING * INTO r;
	ASSERT r.namespace = '' AND NOT r.is_default, format('unexpected defaults: %s', r);
END
$$;
