-- t063: imagereg_registry_create with a key: the same actor, key and non-secret fields within 24 hours get the first
-- id back (replayed) and nothing new; other credentials do not count as another request; no key: always new.
\ir lib/helpers.sql
CREATE FUNCTION pg_temp.post(actor text, key text, ns text, secret bytea DEFAULT NULL) RETURNS TABLE (i text, r boolean) LANGUAGE sql AS $$
	SELECT registry_id, replayed FROM imagereg_registry_create(actor, 'https://a.example', 'native', NULL, ns, false,
		NULL, secret, false, NULL, key)
$$;
DO $$
DECLARE
	id1 text; id2 text; r1 boolean; r2 boolean;
	envelope bytea := '\x01'::bytea || decode(repeat('00', 40), 'hex');
BEGIN
	SELECT * INTO id1, r1 FROM pg_temp.post('alice', 'k-1', 'ns');
	SELECT * INTO id2, r2 FROM pg_temp.post('alice', 'k-1', 'ns');
	ASSERT NOT r1 AND r2, format('replayed flags %s %s, want false true', r1, r2);
	ASSERT id1 = id2, format('ids %s and %s differ', id1, id2);
	ASSERT (SELECT count(*) FROM registry) = 1, 'the replay created a row';
	ASSERT (SELECT count(*) FROM registry_idempotency) = 1, 'the replay recorded the key again';
	-- The fingerprint leaves credentials out: a retry that sends them is the same request.
	SELECT * INTO id2, r2 FROM pg_temp.post('alice', 'k-1', 'ns', envelope);
	ASSERT r2 AND id2 = id1, 'a retry with a credential was not replayed';
	-- The answer stays even when the registry is gone: a late retry must not create it again.
	DELETE FROM registry WHERE id = id1;
	SELECT * INTO id2, r2 FROM pg_temp.post('alice', 'k-1', 'ns');
	ASSERT r2 AND id2 = id1 AND NOT EXISTS (SELECT 1 FROM registry), 'a retry after the delete created a registry';
	-- Keys are per actor.
	SELECT * INTO id2, r2 FROM pg_temp.post('bob', 'k-1', 'ns');
	ASSERT NOT r2 AND id2 <> id1, 'another actor''s key was replayed';
	-- No key: a new row every time, nothing recorded.
	SELECT * INTO id1, r1 FROM pg_temp.post('alice', NULL, 'ns');
	SELECT * INTO id2, r2 FROM pg_temp.post('alice', NULL, 'ns');
	ASSERT NOT r1 AND NOT r2 AND id1 <> id2, 'POSTs without a key were not independent';
	ASSERT (SELECT count(*) FROM registry_idempotency) = 2, 'a POST without a key recorded something';
	-- The fingerprint is a SHA-256, never of a credential.
	ASSERT (SELECT bool_and(octet_length(fingerprint) = 32) FROM registry_idempotency), 'fingerprint is not 32 bytes';
	PERFORM pg_temp.expect_check($q$INSERT INTO registry_idempotency (actor, key, fingerprint, registry_id)
		VALUES ('a', E'tab\tkey', sha256(''), '0123456789abcdef01234567')$q$, 'registry_idempotency_key_shape');
	PERFORM pg_temp.expect_check($q$INSERT INTO registry_idempotency (actor, key, fingerprint, registry_id)
		VALUES ('a', 'k', '\x00', '0123456789abcdef01234567')$q$, 'registry_idempotency_fingerprint_is_sha256');
END
$$;
