-- t007: registry_address_length allows up to 2048 bytes (bytes, not characters) and rejects more.
\ir lib/helpers.sql
DO $$
DECLARE
	base text := 'https://r.example.com/';   -- 22 bytes
BEGIN
	PERFORM pg_temp.add(base || repeat('a', 2048 - 22));
	PERFORM pg_temp.expect_check(
		format($q$INSERT INTO registry (address, provider, namespace) VALUES (%L, 'native', 'ns')$q$,
		       base || repeat('a', 2049 - 22)),
		'registry_address_length');
	-- 'é' is 2 bytes: 1014 of them make 2050 bytes in only 1036 characters.
	PERFORM pg_temp.expect_check(
		format($q$INSERT INTO registry (address, provider, namespace) VALUES (%L, 'native', 'ns')$q$,
		       base || repeat('é', 1014)),
		'registry_address_length');
	PERFORM pg_temp.add(base || repeat('é', 1013));   -- 2048 bytes
END
$$;
