-- sql/004_versions.sql -- fourth migration: a row version per registry (the API's ETag, checked by If-Match) and
-- Idempotency-Key records that make a repeated POST return its first answer instead of creating again.
--
-- Like every migration it runs inside the migrator's transaction and has no transaction control of its own.
--
-- Constraint names and their client messages (the C side maps them as for 001; sql/CONSTRAINTS.txt holds the list):
--
--   registry_version_positive                    version must be at least 1
--   registry_idempotency_pkey                    this Idempotency-Key is already recorded for this token
--   registry_idempotency_key_shape               Idempotency-Key must be 1 to 128 printable ASCII characters
--   registry_idempotency_fingerprint_is_sha256   the request fingerprint must be a SHA-256
--   registry_idempotency_key_reused              Idempotency-Key was already used for a different request in the last 24 hours
--
-- registry_idempotency_key_reused is not in pg_constraint: imagereg_registry_create raises it (SQLSTATE 23505) when a
-- key comes back with other fields; the responder answers it with 422, the others with 400.
--
-- Versions: registry.version starts at 1 and the trigger registry_version_bump adds 1 on every UPDATE of the row,
-- whoever runs it: the API, the default moves of 001's triggers (the registry that loses or gains the default changes
-- too), the CLI, a DBA in psql. The responder shows it as a strong ETag ("3") and compares If-Match with it inside the
-- write functions, under the registry writer lock, so the check and the write are one atomic step.
--
-- Idempotency: a POST with an Idempotency-Key records (token name, key, SHA-256 of the request's non-secret fields,
-- new id). The same token sending the same key within 24 hours gets the recorded id back and nothing is created;
-- with different fields it gets 422. Records older than 24 hours count as absent and are deleted as new keyed POSTs
-- come in.

ALTER TABLE registry
	ADD COLUMN version bigint NOT NULL DEFAULT 1,
	ADD CONSTRAINT registry_version_positive CHECK (version >= 1);

COMMENT ON COLUMN registry.version IS
	'Row version: 1 when inserted, plus 1 on every UPDATE of the row (trigger registry_version_bump), also when the default moved to or away from it. The API sends it as the strong ETag "<version>" and compares If-Match with it. Values set by hand are overwritten by the trigger.';
COMMENT ON CONSTRAINT registry_version_positive ON registry IS
	'version is at least 1. Client message: version must be at least 1.';

-- Named to sort after registry_before_update (BEFORE ROW triggers fire in name order): the version is bumped on the
-- row as the other trigger left it. It is set from OLD, so an UPDATE cannot set or lower it.
CREATE FUNCTION registry_bump_version() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
BEGIN
	NEW.version := OLD.version + 1;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION registry_bump_version() IS
	'Trigger function of registry_version_bump: sets NEW.version to OLD.version + 1, whatever the UPDATE asked for.';

CREATE TRIGGER registry_version_bump
	BEFORE UPDATE ON registry
	FOR EACH ROW
	EXECUTE FUNCTION registry_bump_version();

COMMENT ON TRIGGER registry_version_bump ON registry IS
	'Before each updated row, after registry_before_update (name order): version := old version + 1, for every writer and for the rows the default-registry triggers update themselves.';

-- The audit trail records which fields changed; the version changes with every update and says nothing of its own.
-- Same function as in 002 with version added to the columns left out.
CREATE OR REPLACE FUNCTION registry_audit_row() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path FROM CURRENT
AS $$
DECLARE
	actor text := coalesce(nullif(current_setting('imagereg.actor', true), ''), 'sql:' || session_user);
	rid text;
	fields text[];
BEGIN
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
	END IF;
	-- The default moves in two steps inside one statement; fold them into the row already written.
	IF TG_OP <> 'DELETE' THEN
		UPDATE registry_audit a
		   SET changed_fields = ARRAY(SELECT DISTINCT f FROM unnest(a.changed_fields || fields) f ORDER BY f)
		 WHERE a.txid = txid_current() AND a.registry_id = rid AND a.operation <> 'delete';
		IF FOUND THEN
			RETURN NULL;
		END IF;
	END IF;
	INSERT INTO registry_audit (actor, operation, registry_id, changed_fields)
	VALUES (actor, lower(TG_OP), rid, fields);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION registry_audit_row() IS
	'Trigger function of registry_audit: records actor, operation, registry id and changed field names (not updated_at, created_at, credentials_updated_at or version, which change with every write); merges further changes to the same registry in the same transaction into its row. SECURITY DEFINER so writers need no privilege on registry_audit and cannot forge it.';


CREATE TABLE registry_idempotency (
	actor       text        NOT NULL,
	key         text        NOT NULL,
	fingerprint bytea       NOT NULL,
	registry_id text        NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),

	CONSTRAINT registry_idempotency_pkey PRIMARY KEY (actor, key),
	-- Printable ASCII: space (0x20) to tilde (0x7e).
	CONSTRAINT registry_idempotency_key_shape CHECK (key ~ '^[ -~]{1,128}$'),
	CONSTRAINT registry_idempotency_fingerprint_is_sha256 CHECK (octet_length(fingerprint) = 32)
);

COMMENT ON TABLE registry_idempotency IS
	'Idempotency-Key of POST /openapi/system/registry: which registry a token''s key created, so that the same key sent again within 24 hours returns that id instead of creating another registry. Written only by imagereg_registry_create; rows older than 24 hours are expired and deleted by later keyed POSTs.';
COMMENT ON COLUMN registry_idempotency.actor IS
	'Name of the API token that sent the key (imagereg.actor): keys are per token, so one client cannot replay another''s.';
COMMENT ON COLUMN registry_idempotency.key IS
	'The Idempotency-Key header as sent: 1 to 128 printable ASCII characters.';
COMMENT ON COLUMN registry_idempotency.fingerprint IS
	'SHA-256 of the non-secret fields of the request (address, provider, region, namespace, is_default, enable_tls, tls_cert as a JSON array); never of a credential. The same key with another fingerprint is refused (registry_idempotency_key_reused).';
COMMENT ON COLUMN registry_idempotency.registry_id IS
	'Id of the registry the first request created. No foreign key: the answer is replayed even after the registry was deleted, so a retry cannot create it again.';
COMMENT ON COLUMN registry_idempotency.created_at IS
	'When the first request was made; the record is honoured for 24 hours from then.';
COMMENT ON CONSTRAINT registry_idempotency_pkey ON registry_idempotency IS
	'One record per token and key. Client message: this Idempotency-Key is already recorded for this token.';
COMMENT ON CONSTRAINT registry_idempotency_key_shape ON registry_idempotency IS
	'key is 1 to 128 characters from space to tilde. Client message: Idempotency-Key must be 1 to 128 printable ASCII characters.';
COMMENT ON CONSTRAINT registry_idempotency_fingerprint_is_sha256 ON registry_idempotency IS
	'fingerprint is 32 bytes, a SHA-256. Client message: the request fingerprint must be a SHA-256.';
COMMENT ON INDEX registry_idempotency_pkey IS
	'Unique index behind registry_idempotency_pkey: the lookup of every keyed POST.';

CREATE INDEX registry_idempotency_by_age ON registry_idempotency (created_at);
COMMENT ON INDEX registry_idempotency_by_age IS
	'Finds the expired records (older than 24 hours) that keyed POSTs delete.';


-- The write functions of 002, with preconditions. Their old signatures go: a responder built before this migration
-- fails to prepare its statements until it is replaced by one that knows the new ones.
DROP FUNCTION imagereg_registry_create(text, text, text, text, text, boolean, bytea, bytea, boolean, text);
DROP FUNCTION imagereg_registry_update(text, text, text, text, text, text, boolean, bytea, bytea, boolean, text);
DROP FUNCTION imagereg_registry_delete(text, text);

-- Lock order, as for every registry writer: the key's own advisory lock (two int4 keys: class 1768187245 = ASCII
-- "idem", and the hash of actor and key), then the writer lock 7596835243155416423 (taken by the INSERT's statement
-- trigger), then rows. Nothing takes them the other way round, so they cannot deadlock. The key lock makes two
-- requests with the same key run one after the other: the second sees the first's record and replays it.
CREATE FUNCTION imagereg_registry_create(
	p_actor text, p_address text, p_provider text, p_region text, p_namespace text, p_is_default boolean,
	p_access_key bytea, p_secret_key bytea, p_enable_tls boolean, p_tls_cert text, p_idempotency_key text)
	RETURNS TABLE (registry_id text, replayed boolean)
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
	fp bytea;
	prior registry_idempotency%ROWTYPE;
	new_id text;
BEGIN
	PERFORM set_config('imagereg.actor', p_actor, true);
	IF p_idempotency_key IS NOT NULL THEN
		-- jsonb's text form is canonical: the same fields always give the same bytes.
		fp := sha256(convert_to(jsonb_build_array(p_address, p_provider, coalesce(p_region, ''),
			coalesce(p_namespace, ''), p_is_default, p_enable_tls, p_tls_cert)::text, 'UTF8'));
		PERFORM pg_advisory_xact_lock(1768187245, hashtext(p_actor || E'\n' || p_idempotency_key));
		SELECT * INTO prior FROM registry_idempotency i
		 WHERE i.actor = p_actor AND i.key = p_idempotency_key AND i.created_at > now() - interval '24 hours';
		IF FOUND THEN
			IF prior.fingerprint <> fp THEN
				RAISE EXCEPTION 'Idempotency-Key was already used for a different request'
					USING ERRCODE = 'unique_violation',
					      CONSTRAINT = 'registry_idempotency_key_reused',
					      TABLE = 'registry_idempotency',
					      DETAIL = format('Token %s used the key at %s for registry %s with other fields.',
					                      p_actor, prior.created_at, prior.registry_id),
					      HINT = 'Send a new key for a new request.';
			END IF;
			RETURN QUERY SELECT prior.registry_id, true;
			RETURN;
		END IF;
		-- This key's expired record, and some others: SKIP LOCKED, so no POST waits for another's cleanup.
		DELETE FROM registry_idempotency i WHERE i.actor = p_actor AND i.key = p_idempotency_key;
		DELETE FROM registry_idempotency i
		 WHERE (i.actor, i.key) IN (SELECT o.actor, o.key FROM registry_idempotency o
		                             WHERE o.created_at <= now() - interval '24 hours'
		                             ORDER BY o.created_at LIMIT 100 FOR UPDATE SKIP LOCKED);
	END IF;
	INSERT INTO registry (address, provider, region, namespace, is_default, access_key_sealed, secret_key_sealed,
	                      credentials_updated_at, enable_tls, tls_cert)
	VALUES (p_address, p_provider, coalesce(p_region, ''), coalesce(p_namespace, ''), p_is_default,
	        p_access_key, p_secret_key,
	        CASE WHEN p_access_key IS NOT NULL OR p_secret_key IS NOT NULL THEN clock_timestamp() END,
	        p_enable_tls, p_tls_cert)
	RETURNING id INTO new_id;
	IF p_idempotency_key IS NOT NULL THEN
		INSERT INTO registry_idempotency (actor, key, fingerprint, registry_id)
		VALUES (p_actor, p_idempotency_key, fp, new_id);
	END IF;
	RETURN QUERY SELECT new_id, false;
END
$$;

COMMENT ON FUNCTION imagereg_registry_create(text, text, text, text, text, boolean, bytea, bytea, boolean, text, text) IS
	'POST: inserts a registry as p_actor (an API token name) and returns its id with replayed = false. Credentials arrive sealed. With p_idempotency_key: if p_actor used the key in the last 24 hours for the same non-secret fields, returns that id with replayed = true and inserts nothing; for other fields raises 23505 registry_idempotency_key_reused; otherwise inserts and records the key.';

-- p_if_match: NULL = no precondition; else the versions If-Match names (empty: none can match). The row is locked
-- after the writer lock, as 001 asks of a writer that locks rows before it writes.
CREATE FUNCTION imagereg_registry_update(
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
	PERFORM set_config('imagereg.actor', p_actor, true);
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
		credentials_updated_at = CASE WHEN p_access_key IS NOT NULL OR p_secret_key IS NOT NULL OR cleared
		                              THEN clock_timestamp() ELSE r.credentials_updated_at END,
		enable_tls = coalesce(p_enable_tls, r.enable_tls),
		tls_cert = coalesce(p_tls_cert, r.tls_cert)
	WHERE r.id = p_id;
	-- After the statement: a default move made when it ended bumped the version again.
	SELECT r.version INTO now_version FROM registry r WHERE r.id = p_id;
	RETURN QUERY SELECT true, cleared, false, now_version;
END
$$;

COMMENT ON FUNCTION imagereg_registry_update(text, text, text, text, text, text, boolean, bytea, bytea, boolean, text, bigint[]) IS
	'PUT: replaces a registry as p_actor. NULL credentials, enable_tls or tls_cert keep the stored value, except that a new host without a new secret_key clears both credentials (credentials_cleared). found is false for an unknown id. With p_if_match not NULL, a row whose version is not in it is left alone (precondition_failed, version = its version); otherwise version is the new one.';

CREATE FUNCTION imagereg_registry_delete(p_actor text, p_id text, p_if_match bigint[])
	RETURNS TABLE (found boolean, precondition_failed boolean, version bigint)
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
	current_version bigint;
BEGIN
	PERFORM set_config('imagereg.actor', p_actor, true);
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


-- Privileges, in 002's model: the responder's role writes through the functions and reaches the new table only as
-- they need; readers see everything that is not a secret.
REVOKE ALL ON registry_idempotency FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON registry_idempotency TO imagereg_app;
GRANT EXECUTE ON FUNCTION
	imagereg_registry_create(text, text, text, text, text, boolean, bytea, bytea, boolean, text, text),
	imagereg_registry_update(text, text, text, text, text, text, boolean, bytea, bytea, boolean, text, bigint[]),
	imagereg_registry_delete(text, text, bigint[])
	TO imagereg_app;
GRANT SELECT (version) ON registry TO imagereg_readonly;
GRANT SELECT ON registry_idempotency TO imagereg_readonly;

COMMENT ON ROLE imagereg_app IS
	'imagereg responder: SELECT/INSERT/UPDATE/DELETE on registry and registry_idempotency, EXECUTE on the imagereg_registry_* and imagereg_token_check functions; no DDL, no TRUNCATE. Grant it to the login role in the responder''s IMAGEREG_DSN.';
COMMENT ON ROLE imagereg_readonly IS
	'imagereg reporting: SELECT on registry (all but the sealed credential columns), registry_audit, registry_idempotency, schema_migration and api_token (all but token_hash).';
