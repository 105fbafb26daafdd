-- t012: registry_region_length allows 64 bytes of region and rejects 65.
\ir lib/helpers.sql
DO $$
BEGIN
	INSERT INTO registry (address, provider, region) VALUES ('https://r', 'ecr', repeat('r', 64));
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, region) VALUES ('https://r', 'ecr', repeat('r', 65))$q$,
		'registry_region_length');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, region) VALUES ('https://r', 'ecr', repeat('é', 33))$q$,
		'registry_region_length');
END
$$;
