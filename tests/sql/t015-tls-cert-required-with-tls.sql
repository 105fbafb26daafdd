-- t015: registry_tls_cert_required: enable_tls = true needs a tls_cert with a non-white-space character (NULL is not enough).
\ir lib/helpers.sql
DO $$
DECLARE
	a text;
BEGIN
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, enable_tls) VALUES ('https://r', 'native', 'ns', true)$q$,
		'registry_tls_cert_required');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert) VALUES ('https://r', 'native', 'ns', true, NULL)$q$,
		'registry_tls_cert_required');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert) VALUES ('https://r', 'native', 'ns', true, '')$q$,
		'registry_tls_cert_required');
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert) VALUES ('https://r', 'native', 'ns', true, E' \n\t')$q$,
		'registry_tls_cert_required');

	-- Accepted: TLS off with or without a cert, TLS on with a cert.
	INSERT INTO registry (address, provider, namespace, enable_tls) VALUES ('https://r', 'native', 'ns', false);
	INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert) VALUES ('https://r', 'native', 'ns', false, '');
	INSERT INTO registry (address, provider, namespace, enable_tls, tls_cert)
	VALUES ('https://r', 'native', 'ns', true, E'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
	RETURNING id INTO a;

	-- Switching TLS on without a cert, or dropping the cert while TLS is on.
	PERFORM pg_temp.expect_check(
		$q$UPDATE registry SET enable_tls = true WHERE tls_cert IS NULL$q$, 'registry_tls_cert_required');
	PERFORM pg_temp.expect_check(
		format($q$UPDATE registry SET tls_cert = NULL WHERE id = %L$q$, a), 'registry_tls_cert_required');
END
$$;
