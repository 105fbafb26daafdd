-- t016: registry_tls_cert_length allows up to 65536 bytes of tls_cert and rejects 65537.
\ir lib/helpers.sql
-- A PEM-armoured text of exactly n bytes (registry_tls_cert_is_pem checks the armour, not the X.509 inside).
CREATE FUNCTION pg_temp.pem_of_length(n int) RETURNS text LANGUAGE sql AS $$
	SELECT head || repeat(E'QUFB\n', (n - length(head) - length(tail) - 5) / 5)
	       || repeat('Q', (n - length(head) - length(tail) - 5) % 5) || E'QUFB\n' || tail
	FROM (SELECT E'-----BEGIN CERTIFICATE-----\n' AS head, '-----END CERTIFICATE-----' AS tail) s
$$;
DO $$
BEGIN
	ASSERT octet_length(pg_temp.pem_of_length(65536)) = 65536, 'helper makes the wrong length';
	-- 65534 characters, 65538 bytes: the limit counts bytes.
	ASSERT length(repeat('é', 4) || pg_temp.pem_of_length(65530)) = 65534;
	INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert)
	VALUES ('https://r', 'native', 'ns', true, pg_temp.pem_of_length(65536));
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert) VALUES ('https://r', 'native', 'ns', true, pg_temp.pem_of_length(65537))$q$,
		'registry_tls_cert_length');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, tls_cert) VALUES ('https://r', 'native', 'ns', repeat('é', 4) || pg_temp.pem_of_length(65530))$q$,
		'registry_tls_cert_length');
END
$$;
