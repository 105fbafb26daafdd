-- t001: the default id is 24 lowercase hex digits: Unix time (8) + random (10) + counter (6), like a Mongo ObjectID.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a.example.com');
	b text := pg_temp.add('https://b.example.com');
	secs bigint;
BEGIN
	ASSERT a ~ '^[0-9a-f]{24}$', format('id %s is not 24 lowercase hex digits', a);
	ASSERT b ~ '^[0-9a-f]{24}$', format('id %s is not 24 lowercase hex digits', b);
	-- First 8 hex digits: big-endian Unix seconds, within a few seconds of now.
	secs := ('x' || substr(a, 1, 8))::bit(32)::bigint;
	ASSERT abs(secs - extract(epoch FROM clock_timestamp())) < 5,
		format('time part %s of id %s is not now (%s)', secs, a, extract(epoch FROM clock_timestamp())::bigint);
	-- Last 6 hex digits: consecutive values of registry_id_counter.
	ASSERT (('x' || substr(b, 19, 6))::bit(24)::int - ('x' || substr(a, 19, 6))::bit(24)::int) % 16777216 = 1,
		format('counter parts of %s and %s are not consecutive', a, b);
	-- Middle 10 hex digits: random, so two ids made in the same second differ there.
	ASSERT substr(a, 9, 10) <> substr(b, 9, 10), format('random parts of %s and %s are equal', a, b);
END
$$;

-- The counter wraps at 3 bytes instead of failing.
DO $$
DECLARE
	id_after_wrap text;
BEGIN
	PERFORM setval('registry_id_counter', 16777215);
	id_after_wrap := imagereg_object_id();
	ASSERT right(id_after_wrap, 6) = '000000', format('counter did not wrap to 000000: %s', id_after_wrap);
END
$$;
