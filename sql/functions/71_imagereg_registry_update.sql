-- sql/functions/71_imagereg_registry_update.sql -- PUT, in one round trip, with If-Match.
--
-- p_if_match: NULL = no precondition; else the versions If-Match names (empty: none can match). The row is locked
-- after the writer lock, as registry_lock_writers asks of a writer that locks rows before it writes.
-- credentials_updated_at is the trigger's business (registry_before_update).
CREATE OR REPLACE FUNCTION imagereg_registry_update(
	p_actor text, p_id text, p_address text, p_provider text, p_region text, p_namespace text, p_is_default boolean,
	p_access_key bytea, p_secret_key bytea, p_enable_tls boolean, p_tls_cert text, p_if_match bigint[])
	RETURNS TABLE (found boolean, credentials_cleared boolean, precondition_failed boolean, version bigint)
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
	old registry%ROWTYPE;
	cleared boolean;
	now_version bigint;
BEGIN
	PERFORM imagereg_write_begin(p_actor);
	PERFORM pg_advisory_xact_lock(7596835243155416423);
	SELECT * INTO old FROM registry r WHERE r.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT false, false, false, NULL::bigint;
		RETURN;
	END IF;
	IF p_if_match IS NOT NULL AND NOT (old.version = ANY (p_if_match)) THEN
		RETURN QUERY SELECT true, false, true, old.version;
		RETURN;
	END IF;
	-- Stored credentials follow the host only when the client sends a new secret (Harbor's lesson).
	cleared := p_secret_key IS NULL
	       AND (old.secret_key_sealed IS NOT NULL OR old.access_key_sealed IS NOT NULL)
	       AND imagereg_address_host(old.address) IS DISTINCT FROM imagereg_address_host(p_address);
	UPDATE registry r SET
		address = p_address, provider = p_provider,
		region = coalesce(p_region, ''), namespace = coalesce(p_namespace, ''),
		is_default = p_is_default,
		access_key_sealed = CASE WHEN p_access_key IS NOT NULL THEN p_access_key
		                         WHEN cleared THEN NULL ELSE r.access_key_sealed END,
		secret_key_sealed = CASE WHEN p_secret_key IS NOT NULL THEN p_secret_key
		                         WHEN cleared THEN NULL ELSE r.secret_key_sealed END,
		enable_tls = coalesce(p_enable_tls, r.enable_tls),
		tls_cert = coalesce(p_tls_cert, r.tls_cert)
	WHERE r.id = p_id;
	-- After the statement: a default move made when it ended bumped the version again.
	SELECT r.version INTO now_version FROM registry r WHERE r.id = p_id;
	RETURN QUERY SELECT true, cleared, false, now_version;
END
$$;

COMMENT ON FUNCTION imagereg_registry_update(text, text, text, text, text, text, boolean, bytea, bytea, boolean, text, bigint[]) IS
	'PUT: replaces a registry as p_actor. NULL credentials, enable_tls or tls_cert keep the stored value, except that a new host without a new secret_key clears both credentials (credentials_cleared). found is false for an unknown id. With p_if_match not NULL, a row whose version is not in it is left alone (precondition_failed, version = its version); otherwise version is the new one (unchanged when the PUT changed nothing).';

REVOKE ALL ON FUNCTION imagereg_registry_update(text, text, text, text, text, text, boolean, bytea, bytea, boolean, text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_registry_update(text, text, text, text, text, text, boolean, bytea, bytea, boolean, text, bigint[]) TO imagereg_app;
