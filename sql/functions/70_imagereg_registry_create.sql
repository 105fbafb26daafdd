-- sql/functions/70_imagereg_registry_create.sql -- POST, in one round trip, with Idempotency-Key.
--
-- The responder's writes each name their actor for the audit trigger (transaction-local, so it ends with the
-- statement), and wait for locks at most the session's imagereg.write_lock_timeout (the responder's lock_timeout
-- setting), after which PostgreSQL raises 55P03 and the responder answers 503. Lock order, as for every registry writer: the key's own advisory lock (two int4 keys: class
-- 1768187245 = ASCII "idem", and the hash of actor and key), then the writer lock 7596835243155416423 (taken by the
-- INSERT's statement trigger), then rows. Nothing takes them the other way round, so they cannot deadlock. The key
-- lock makes two requests with the same key run one after the other: the second sees the first's record and
-- replays it.
CREATE OR REPLACE FUNCTION imagereg_registry_create(
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
	PERFORM imagereg_write_begin(p_actor);
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
	                      enable_tls, tls_cert)
	VALUES (p_address, p_provider, coalesce(p_region, ''), coalesce(p_namespace, ''), p_is_default,
	        p_access_key, p_secret_key, p_enable_tls, p_tls_cert)
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

REVOKE ALL ON FUNCTION imagereg_registry_create(text, text, text, text, text, boolean, bytea, bytea, boolean, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_registry_create(text, text, text, text, text, boolean, bytea, bytea, boolean, text, text) TO imagereg_app;
