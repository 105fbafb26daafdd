-- sql/functions/72_imagereg_registry_delete.sql -- DELETE, in one round trip, with If-Match.
CREATE OR REPLACE FUNCTION imagereg_registry_delete(p_actor text, p_id text, p_if_match bigint[])
	RETURNS TABLE (found boolean, precondition_failed boolean, version bigint)
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
	current_version bigint;
BEGIN
	PERFORM imagereg_write_begin(p_actor);
	PERFORM pg_advisory_xact_lock(7596835243155416423);
	SELECT r.version INTO current_version FROM registry r WHERE r.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT false, false, NULL::bigint;
		RETURN;
	END IF;
	IF p_if_match IS NOT NULL AND NOT (current_version = ANY (p_if_match)) THEN
		RETURN QUERY SELECT true, true, current_version;
		RETURN;
	END IF;
	DELETE FROM registry r WHERE r.id = p_id;
	RETURN QUERY SELECT true, false, current_version;
END
$$;

COMMENT ON FUNCTION imagereg_registry_delete(text, text, bigint[]) IS
	'DELETE: removes a registry as p_actor; found is false for an unknown id. With p_if_match not NULL, a row whose version is not in it is kept (precondition_failed). version is the version the row had. The triggers promote the oldest remaining row if it was the default.';

REVOKE ALL ON FUNCTION imagereg_registry_delete(text, text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_registry_delete(text, text, bigint[]) TO imagereg_app;
