-- t003: registry_id_is_object_id accepts a given 24-lowercase-hex id and rejects anything else.
\ir lib/helpers.sql
DO $$
DECLARE
	bad text;
BEGIN
	INSERT INTO registry (id, address, provider, namespace)
	VALUES ('0123456789abcdef01234567', 'https://a.example.com', 'native', 'ns');
	ASSERT EXISTS (SELECT 1 FROM registry WHERE id = '0123456789abcdef01234567'), 'valid explicit id not stored';

	FOREACH bad IN ARRAY ARRAY[
		'',
		'0123456789abcdef0123456',       -- 23 digits
		'0123456789abcdef012345678',     -- 25 digits
		'0123456789ABCDEF01234567',      -- upper case
		'0123456789abcdeg01234567',      -- not hex
		' 123456789abcdef01234567',
		'0123456789abcdef01234567' || E'\n'
	] LOOP
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (id, address, provider, namespace) VALUES (%L, 'https://b.example.com', 'native', 'ns')$q$, bad),
			'registry_id_is_object_id');
	END LOOP;
END
$$;
