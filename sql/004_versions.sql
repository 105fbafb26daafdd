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

-- The version is bumped by registry_before_update (sql/functions/22_registry_before_update.sql).


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


-- The write functions of 002 get preconditions (sql/functions/7*.sql); their old signatures go.
DROP FUNCTION IF EXISTS imagereg_registry_create(text, text, text, text, text, boolean, bytea, bytea, boolean, text);
DROP FUNCTION IF EXISTS imagereg_registry_update(text, text, text, text, text, text, boolean, bytea, bytea, boolean, text);
DROP FUNCTION IF EXISTS imagereg_registry_delete(text, text);


-- Privileges, in 002's model: the responder's role writes through the functions and reaches the new table only as
-- they need; readers see everything that is not a secret.
REVOKE ALL ON registry_idempotency FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON registry_idempotency TO imagereg_app;
GRANT SELECT (version) ON registry TO imagereg_readonly;
GRANT SELECT ON registry_idempotency TO imagereg_readonly;

COMMENT ON ROLE imagereg_app IS
	'imagereg responder: SELECT/INSERT/UPDATE/DELETE on registry and registry_idempotency, EXECUTE on the imagereg_registry_* and imagereg_token_check functions; no DDL, no TRUNCATE. Grant it to the login role in the responder''s IMAGEREG_DSN.';
COMMENT ON ROLE imagereg_readonly IS
	'imagereg reporting: SELECT on registry (all but the sealed credential columns), registry_audit, registry_idempotency, schema_migration and api_token (all but token_hash).';
