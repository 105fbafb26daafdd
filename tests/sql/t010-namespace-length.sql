-- t010: registry_namespace_length allows 255 bytes of namespace and rejects 256.
\ir lib/helpers.sql
DO $$
BEGIN
	INSERT INTO registry (address, provider, namespace) VALUES ('https://r', 'native', repeat('n', 255));
	INSERT INTO registry (address, provider, namespace) VALUES ('https://r', 'native', repeat('é', 127) || 'n');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace) VALUES ('https://r', 'native', repeat('n', 256))$q$,
		'registry_namespace_length');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace) VALUES ('https://r', 'native', repeat('é', 128))$q$,
		'registry_namespace_length');
END
$$;
