-- t004: UPDATE of id fails with 23514 and constraint registry_id_immutable; the row keeps its id.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add();
BEGIN
	PERFORM pg_temp.expect_error(
		format($q$UPDATE registry SET id = '0123456789abcdef01234567' WHERE id = %L$q$, a),
		'23514', 'registry_id_immutable');
	ASSERT EXISTS (SELECT 1 FROM registry WHERE id = a), 'row lost its id';
	-- Setting id to itself is not a change.
	UPDATE registry SET id = a WHERE id = a;
END
$$;
