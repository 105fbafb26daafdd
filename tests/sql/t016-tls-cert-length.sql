-- t016: registry_tls_cert_length allows up to 65536 bytes of tls_cert and rejects 65537.
\ir lib/helpers.sql
DO $$
BEGIN
	INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert)
	VALUES ('https://r', 'native', 'ns', true, repeat('c', 65536));
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert) VALUES ('https://r', 'native', 'ns', true, repeat('c', 65537))$q$,
		'registry_tls_cert_length');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, tls_cert) VALUES ('https://r', 'native', 'ns', repeat('é', 32769))$q$,
		'registry_tls_cert_length');
END
$$;
