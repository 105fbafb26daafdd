-- t065: a record older than 24 hours no longer replays: the key creates anew and its record is replaced; other
-- expired records are deleted by keyed POSTs, live ones stay.
\ir lib/helpers.sql
DO $$
DECLARE
	first text; again text; replayed boolean;
BEGIN
	SELECT registry_id INTO first FROM imagereg_registry_create('alice', 'https://a.example', 'native', NULL, 'ns',
		false, NULL, NULL, false, NULL, 'k-3');
	INSERT INTO registry_idempotency (actor, key, fingerprint, registry_id, created_at)
	VALUES ('bob', 'old', sha256('x'), first, now() - interval '25 hours'),
	       ('bob', 'young', sha256('x'), first, now() - interval '23 hours');
	UPDATE registry_idempotency SET created_at = now() - interval '25 hours' WHERE key = 'k-3';
	-- Other fields, even: an expired key is a fresh key.
	SELECT c.registry_id, c.replayed INTO again, replayed FROM imagereg_registry_create('alice', 'https://other.example',
		'native', NULL, 'ns', false, NULL, NULL, false, NULL, 'k-3') c;
	ASSERT NOT replayed AND again <> first, 'an expired key was replayed';
	ASSERT (SELECT count(*) FROM registry) = 2, 'the expired key did not create a registry';
	ASSERT (SELECT registry_id FROM registry_idempotency WHERE key = 'k-3') = again, 'the record was not replaced';
	ASSERT NOT EXISTS (SELECT 1 FROM registry_idempotency WHERE key = 'old'), 'another expired record is still there';
	ASSERT EXISTS (SELECT 1 FROM registry_idempotency WHERE key = 'young'), 'a live record was deleted';
END
$$;
