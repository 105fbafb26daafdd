-- sql/functions/31_imagereg_address_host.sql -- the host of an address: the thing stored credentials are sent to.
CREATE OR REPLACE FUNCTION imagereg_address_host(address text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	SET search_path FROM CURRENT
AS $$ SELECT lower(substring(address FROM '^[A-Za-z]+://(\[[^]]*\]|[^/?#:]+)')) $$;

COMMENT ON FUNCTION imagereg_address_host(text) IS
	'Host part of a registry address, lower case, without scheme, port or path. A PUT that changes it without a new secret_key clears the stored credentials.';

REVOKE ALL ON FUNCTION imagereg_address_host(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_address_host(text) TO imagereg_app, imagereg_readonly;
