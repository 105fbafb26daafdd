-- sql/functions/50_registry_audit_row.sql -- who changed which registry, for every writer.
--
-- login is session_user, the role that logged in: neither a setting nor SET ROLE can change it. actor says on whose
-- behalf: the API token name that the responder's write functions put in the transaction-local setting
-- imagereg.actor, honoured only when the login is a member of imagereg_app and not a superuser (the responder's
-- own sessions); `imagereg` CLI commands name themselves (cli:<command>); everybody else is sql:<login>, whatever
-- they SET. Column names as the API calls them; the sealed columns are reported as the fields a client sent. An
-- UPDATE that changed nothing writes nothing.
CREATE OR REPLACE FUNCTION registry_audit_row() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path FROM CURRENT
AS $$
DECLARE
	claimed text := nullif(current_setting('imagereg.actor', true), '');
	responder boolean := pg_has_role(session_user, 'imagereg_app', 'MEMBER')
	                     AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user);
	actor text;
	rid text;
	fields text[];
BEGIN
	actor := CASE
		WHEN claimed IS NULL THEN 'sql:' || session_user
		WHEN claimed ~ '^cli:[a-z-]+$' THEN claimed
		WHEN responder THEN claimed
		ELSE 'sql:' || session_user END;
	IF TG_OP = 'DELETE' THEN
		rid := OLD.id;
		fields := '{}';
	ELSE
		rid := NEW.id;
		SELECT coalesce(array_agg(CASE n.key
				WHEN 'access_key_sealed' THEN 'access_key'
				WHEN 'secret_key_sealed' THEN 'secret_key'
				WHEN 'id' THEN 'registry_id'
				ELSE n.key END ORDER BY n.key), '{}')
		  INTO fields
		  FROM jsonb_each(to_jsonb(NEW)) n
		 WHERE n.key NOT IN ('updated_at', 'created_at', 'credentials_updated_at', 'version')
		   AND CASE WHEN TG_OP = 'INSERT' THEN n.value <> 'null'::jsonb
		            ELSE n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key END;
		IF TG_OP = 'UPDATE' AND cardinality(fields) = 0 THEN
			RETURN NULL;
		END IF;
		-- The default moves in two steps inside one statement; fold them into the row already written.
		UPDATE registry_audit a
		   SET changed_fields = ARRAY(SELECT DISTINCT f FROM unnest(a.changed_fields || fields) f ORDER BY f)
		 WHERE a.txid = txid_current() AND a.registry_id = rid AND a.operation <> 'delete';
		IF FOUND THEN
			RETURN NULL;
		END IF;
	END IF;
	INSERT INTO registry_audit (actor, login, operation, registry_id, changed_fields)
	VALUES (actor, session_user, lower(TG_OP), rid, fields);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION registry_audit_row() IS
	'Trigger function of registry_audit: records login (session_user), actor, operation, registry id and changed field names (not updated_at, created_at, credentials_updated_at or version); merges further changes to the same registry in the same transaction into its row. SECURITY DEFINER, owned by imagereg_owner, so writers need no privilege on registry_audit and cannot forge it.';

ALTER FUNCTION registry_audit_row() OWNER TO imagereg_owner;
REVOKE ALL ON FUNCTION registry_audit_row() FROM PUBLIC;

CREATE OR REPLACE TRIGGER registry_audit
	AFTER INSERT OR UPDATE OR DELETE ON registry
	FOR EACH ROW
	EXECUTE FUNCTION registry_audit_row();

COMMENT ON TRIGGER registry_audit ON registry IS
	'After each inserted, updated or deleted row: one audit row per registry per transaction.';
