-- tests/sql/lib/helpers.sql -- assertion helpers for the SQL tests; include with \ir lib/helpers.sql.
-- They live in pg_temp (call them as pg_temp.name(...)): they vanish with the session and never appear in the
-- schema that t040-every-object-has-a-comment inspects.

-- Run stmt and require it to fail with SQLSTATE want_state and CONSTRAINT_NAME want_constraint ('' or NULL: none);
-- with want_column, COLUMN_NAME must match too. Raises an error describing what happened otherwise.
CREATE FUNCTION pg_temp.expect_error(stmt text, want_state text, want_constraint text, want_column text DEFAULT NULL)
	RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	got_state text;
	got_constraint text;
	got_column text;
	got_message text;
BEGIN
	BEGIN
		EXECUTE stmt;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS got_state = RETURNED_SQLSTATE, got_constraint = CONSTRAINT_NAME,
			got_column = COLUMN_NAME, got_message = MESSAGE_TEXT;
		IF got_state IS DISTINCT FROM want_state
		   OR coalesce(got_constraint, '') <> coalesce(want_constraint, '')
		   OR (want_column IS NOT NULL AND got_column IS DISTINCT FROM want_column) THEN
			RAISE EXCEPTION E'wrong error from: %\n  got:  % constraint=% column=% (%)\n  want: % constraint=% column=%',
				stmt, got_state, nullif(got_constraint, ''), nullif(got_column, ''), got_message,
				want_state, nullif(want_constraint, ''), want_column;
		END IF;
		RETURN;
	END;
	RAISE EXCEPTION E'statement succeeded, want % on %: %', want_state, coalesce(want_constraint, '(none)'), stmt;
END
$$;

-- Shorthand for the common case: an INSERT of the given column list/values must break a named CHECK constraint.
CREATE FUNCTION pg_temp.expect_check(stmt text, want_constraint text) RETURNS void LANGUAGE sql AS $$
	SELECT pg_temp.expect_error(stmt, '23514', want_constraint)
$$;

-- Insert a valid registry (provider native, namespace 'ns') and return its id.
CREATE FUNCTION pg_temp.add(address text DEFAULT 'https://registry.example.com', is_default boolean DEFAULT false)
	RETURNS text LANGUAGE sql AS $$
	INSERT INTO registry (address, provider, namespace, is_default)
	VALUES (address, 'native', 'ns', is_default)
	RETURNING id
$$;

-- Ids of the rows with is_default = true, oldest first.
CREATE FUNCTION pg_temp.defaults() RETURNS text[] LANGUAGE sql AS $$
	SELECT coalesce(array_agg(id ORDER BY created_at, id), '{}') FROM registry WHERE is_default
$$;

-- Require exactly one default when the table has rows (none when it is empty); return the default's id.
CREATE FUNCTION pg_temp.the_default() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d text[] := pg_temp.defaults();
	n bigint := (SELECT count(*) FROM registry);
BEGIN
	IF n = 0 THEN
		ASSERT cardinality(d) = 0, format('empty table has defaults %s', d);
		RETURN NULL;
	END IF;
	ASSERT cardinality(d) = 1, format('%s rows, want exactly one default, got %s', n, d);
	RETURN d[1];
END
$$;
