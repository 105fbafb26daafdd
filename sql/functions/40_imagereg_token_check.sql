-- sql/functions/40_imagereg_token_check.sql -- the responder's only way to api_token.
--
-- SECURITY DEFINER: the responder may check a token and stamp last_used_at, but never read token hashes or names of
-- other tokens. It runs as imagereg_owner, a NOLOGIN role that is not a superuser and may do exactly this (SELECT
-- and UPDATE (last_used_at) on api_token, sql/006), so even a planted object could borrow no more than that; and
-- its frozen search_path ("<schema>, pg_temp") never resolves api_token to a caller's temporary table.
CREATE OR REPLACE FUNCTION imagereg_token_check(p_hash bytea) RETURNS TABLE (name text, scope text)
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path FROM CURRENT
AS $$
BEGIN
	RETURN QUERY
		UPDATE api_token t SET last_used_at = clock_timestamp()
		WHERE t.token_hash = p_hash AND t.revoked_at IS NULL
		  AND (t.last_used_at IS NULL OR t.last_used_at < clock_timestamp() - interval '1 minute')
		RETURNING t.name, t.scope;
	IF NOT FOUND THEN
		RETURN QUERY
			SELECT t.name, t.scope FROM api_token t
			WHERE t.token_hash = p_hash AND t.revoked_at IS NULL;
	END IF;
END
$$;

COMMENT ON FUNCTION imagereg_token_check(bytea) IS
	'Name and scope of the valid (not revoked) token with this SHA-256, or no row. Stamps last_used_at at most once a minute. The only way imagereg_app reaches api_token. SECURITY DEFINER, owned by imagereg_owner.';

ALTER FUNCTION imagereg_token_check(bytea) OWNER TO imagereg_owner;
REVOKE ALL ON FUNCTION imagereg_token_check(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_token_check(bytea) TO imagereg_app;
