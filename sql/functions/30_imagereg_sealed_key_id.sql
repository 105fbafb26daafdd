-- sql/functions/30_imagereg_sealed_key_id.sql -- which at-rest key sealed a credential.
--
-- The envelope of sql/002: version (1 byte) || key id (8 bytes) || nonce (12) || ciphertext || tag (16).
CREATE OR REPLACE FUNCTION imagereg_sealed_key_id(sealed bytea) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	SET search_path FROM CURRENT
AS $$ SELECT encode(substring(sealed FROM 2 FOR 8), 'hex') $$;

COMMENT ON FUNCTION imagereg_sealed_key_id(bytea) IS
	'Key id (16 hex digits) of a sealed credential: which at-rest key sealed it. E.g. SELECT credentials_key_id, count(*) FROM registry_overview GROUP BY 1.';

REVOKE ALL ON FUNCTION imagereg_sealed_key_id(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_sealed_key_id(bytea) TO imagereg_app, imagereg_readonly;
