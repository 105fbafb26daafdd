-- t062: imagereg_registry_update and imagereg_registry_delete with p_if_match: NULL writes unconditionally, a list
-- holding the row's version writes, any other list (also an empty one) writes nothing and reports
-- precondition_failed with the current version; an unknown id is found = false whatever p_if_match is.
\ir lib/helpers.sql
CREATE FUNCTION pg_temp.put(rid text, ns text, if_match bigint[])
	RETURNS TABLE (f boolean, p boolean, v bigint) LANGUAGE sql AS $$
	SELECT found, precondition_failed, version FROM imagereg_registry_update('t062', rid, 'https://a.example',
		'native', NULL, ns, false, NULL, NULL, NULL, NULL, if_match)
$$;
DO $$
DECLARE
	a text := pg_temp.add('https://a.example');
	b text := pg_temp.add('https://b.example');
	f boolean; failed boolean; v bigint;
	before registry;
BEGIN
	-- Unconditional, as before this migration.
	SELECT * INTO f, failed, v FROM pg_temp.put(a, 'n1', NULL);
	ASSERT f AND NOT failed AND v = 2, format('unconditional PUT: %s %s %s', f, failed, v);
	-- Matching version, and a list that holds it.
	SELECT * INTO f, failed, v FROM pg_temp.put(a, 'n2', '{2}');
	ASSERT f AND NOT failed AND v = 3, format('matching PUT: %s %s %s', f, failed, v);
	SELECT * INTO f, failed, v FROM pg_temp.put(a, 'n3', '{1,3,9}');
	ASSERT f AND NOT failed AND v = 4, format('list PUT: %s %s %s', f, failed, v);
	-- Stale and empty lists change nothing.
	SELECT * INTO before FROM registry WHERE id = a;
	SELECT * INTO f, failed, v FROM pg_temp.put(a, 'stale', '{3}');
	ASSERT f AND failed AND v = 4, format('stale PUT: %s %s %s', f, failed, v);
	SELECT * INTO f, failed, v FROM pg_temp.put(a, 'none', '{}');
	ASSERT f AND failed AND v = 4, format('empty-list PUT: %s %s %s', f, failed, v);
	ASSERT (SELECT r = before FROM registry r WHERE id = a), 'a refused PUT changed the row';
	-- Unknown id: not found, never precondition_failed.
	SELECT * INTO f, failed, v FROM pg_temp.put('0123456789abcdef01234567', 'x', '{1}');
	ASSERT NOT f AND NOT failed AND v IS NULL, format('unknown PUT: %s %s %s', f, failed, v);

	-- DELETE: stale keeps the row, matching removes it.
	SELECT d.found, d.precondition_failed, d.version INTO f, failed, v FROM imagereg_registry_delete('t062', b, '{7}') d;
	ASSERT f AND failed AND v = 1, format('stale DELETE: %s %s %s', f, failed, v);
	ASSERT EXISTS (SELECT 1 FROM registry WHERE id = b), 'a refused DELETE removed the row';
	SELECT d.found, d.precondition_failed, d.version INTO f, failed, v FROM imagereg_registry_delete('t062', b, '{1}') d;
	ASSERT f AND NOT failed, format('matching DELETE: %s %s %s', f, failed, v);
	ASSERT NOT EXISTS (SELECT 1 FROM registry WHERE id = b), 'a matching DELETE kept the row';
	SELECT d.found, d.precondition_failed INTO f, failed FROM imagereg_registry_delete('t062', b, '{1}') d;
	ASSERT NOT f AND NOT failed, 'DELETE of a gone row is not "not found"';
	SELECT d.found, d.precondition_failed INTO f, failed FROM imagereg_registry_delete('t062', a, NULL) d;
	ASSERT f AND NOT failed AND NOT EXISTS (SELECT 1 FROM registry WHERE id = a), 'unconditional DELETE failed';
END
$$;
