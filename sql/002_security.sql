-- sql/002_security.sql -- second migration: API tokens, credentials sealed at rest, least-privilege roles, audit trail.
--
-- Like every migration it runs inside the migrator's transaction and has no transaction control of its own.
--
-- Roles (cluster-wide, created once, NOLOGIN: grant them to login roles):
--   imagereg_app       what the responder logs in as (GRANT imagereg_app TO your_login_role): reads and writes
--                      registry, checks tokens through imagereg_token_check(); no DDL, no TRUNCATE, no direct access
--                      to api_token or registry_audit.
--   imagereg_readonly  for DBAs and reporting: SELECT on every column except the sealed credentials and token hashes.
--
-- Credentials: access_key and secret_key are sealed by the responder with AES-256-GCM before they reach PostgreSQL
-- and stored as bytea in the envelope  version (1 byte, = 1) || key id (8 bytes) || nonce (12) || ciphertext || tag (16).
-- The key id is the first 8 bytes of SHA-256 of the key: it names the key without revealing it, so `imagereg key
-- rotate` can tell which rows still use an old key (see imagereg_sealed_key_id()). PostgreSQL never sees a plain
-- credential or the key.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'imagereg_app') THEN
		CREATE ROLE imagereg_app NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'imagereg_readonly') THEN
		CREATE ROLE imagereg_readonly NOLOGIN;
	END IF;
END
$$;

COMMENT ON ROLE imagereg_app IS
	'imagereg responder: SELECT/INSERT/UPDATE/DELETE on registry, EXECUTE on the imagereg_registry_* and imagereg_token_check functions; no DDL, no TRUNCATE. Grant it to the login role in the responder''s IMAGEREG_DSN.';
COMMENT ON ROLE imagereg_readonly IS
	'imagereg reporting: SELECT on registry (all but the sealed credential columns), registry_audit, schema_migration and api_token (all but token_hash).';


-- Plain-text credential columns go. No release stored credentials in them, so a database that has some was written
-- by hand: refuse rather than drop them silently.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM registry WHERE access_key IS NOT NULL OR secret_key IS NOT NULL) THEN
		RAISE EXCEPTION 'registry holds plain-text credentials'
			USING HINT = 'Note them, set access_key and secret_key to NULL, migrate, then send them again through the API so they are sealed.';
	END IF;
END
$$;

ALTER TABLE registry
	DROP COLUMN access_key,
	DROP COLUMN secret_key,
	ADD COLUMN access_key_sealed bytea,
	ADD COLUMN secret_key_sealed bytea,
	ADD COLUMN credentials_updated_at timestamptz,
	-- 37 = 1 version + 8 key id + 12 nonce + 16 tag; the plain limits are 1024 and 4096 bytes. substring, not
	-- get_byte: get_byte fails on an empty bytea with 2202E instead of the check's 23514.
	ADD CONSTRAINT registry_access_key_sealed_envelope
		CHECK (substring(access_key_sealed FROM 1 FOR 1) = '\x01'::bytea
		       AND octet_length(access_key_sealed) BETWEEN 37 AND 37 + 1024),
	ADD CONSTRAINT registry_secret_key_sealed_envelope
		CHECK (substring(secret_key_sealed FROM 1 FOR 1) = '\x01'::bytea
		       AND octet_length(secret_key_sealed) BETWEEN 37 AND 37 + 4096);

COMMENT ON COLUMN registry.access_key_sealed IS
	'Access key or user name for the registry, sealed with AES-256-GCM by the responder (envelope: version 1, key id, nonce, ciphertext, tag); NULL when none. Only `imagereg credentials` opens it. Not readable by imagereg_readonly.';
COMMENT ON COLUMN registry.secret_key_sealed IS
	'Secret key or password for the registry, sealed like access_key_sealed; NULL when none. has_credentials in the API means this is not NULL. Not readable by imagereg_readonly.';
COMMENT ON COLUMN registry.credentials_updated_at IS
	'When access_key or secret_key was last set or cleared through the API; NULL if never. Key rotation does not change it.';
COMMENT ON CONSTRAINT registry_access_key_sealed_envelope ON registry IS
	'access_key_sealed is NULL or a version-1 envelope of 37 to 1061 bytes. Client message: access_key could not be stored.';
COMMENT ON CONSTRAINT registry_secret_key_sealed_envelope ON registry IS
	'secret_key_sealed is NULL or a version-1 envelope of 37 to 4133 bytes. Client message: secret_key could not be stored.';

-- imagereg_sealed_key_id() and imagereg_address_host(): sql/functions/3*.sql.


CREATE TABLE api_token (
	id           bigint      GENERATED ALWAYS AS IDENTITY,
	name         text        NOT NULL,
	scope        text        NOT NULL,
	token_hash   bytea       NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
	last_used_at timestamptz,
	revoked_at   timestamptz,

	CONSTRAINT api_token_pkey PRIMARY KEY (id),
	CONSTRAINT api_token_name_unique UNIQUE (name),
	CONSTRAINT api_token_name_shape CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
	CONSTRAINT api_token_scope_known CHECK (scope IN ('read', 'write')),
	CONSTRAINT api_token_hash_unique UNIQUE (token_hash),
	CONSTRAINT api_token_hash_is_sha256 CHECK (octet_length(token_hash) = 32)
);

COMMENT ON TABLE api_token IS
	'Bearer tokens for the HTTP API. The token itself is shown once by `imagereg token create` and never stored: only its SHA-256. Revoked tokens stay for the audit trail.';
COMMENT ON COLUMN api_token.id IS 'Surrogate key.';
COMMENT ON COLUMN api_token.name IS
	'Who or what holds the token (a person, a console, a CI job); unique, also after revocation, because registry_audit.actor refers to it. 1-64 of A-Z a-z 0-9 . _ @ -.';
COMMENT ON COLUMN api_token.scope IS 'read: GET only; write: every endpoint.';
COMMENT ON COLUMN api_token.token_hash IS
	'SHA-256 of the token text. Tokens carry 256 random bits, so an unsalted fast hash is enough. Not readable by imagereg_readonly.';
COMMENT ON COLUMN api_token.created_at IS 'When the token was created.';
COMMENT ON COLUMN api_token.last_used_at IS
	'Last successful authentication, updated at most once a minute per token; NULL if never used.';
COMMENT ON COLUMN api_token.revoked_at IS
	'When the token was revoked (`imagereg token revoke`); from then on every request with it gets 401. NULL while valid.';
COMMENT ON CONSTRAINT api_token_pkey ON api_token IS 'Token ids are unique.';
COMMENT ON CONSTRAINT api_token_name_unique ON api_token IS 'One token per name, revoked ones included.';
COMMENT ON CONSTRAINT api_token_name_shape ON api_token IS 'Names are 1-64 characters of A-Z a-z 0-9 . _ @ -, starting with a letter or digit.';
COMMENT ON CONSTRAINT api_token_scope_known ON api_token IS 'scope is read or write.';
COMMENT ON CONSTRAINT api_token_hash_unique ON api_token IS 'A token text maps to one row.';
COMMENT ON CONSTRAINT api_token_hash_is_sha256 ON api_token IS 'token_hash is 32 bytes, a SHA-256.';
COMMENT ON INDEX api_token_pkey IS 'Unique index behind api_token_pkey.';
COMMENT ON INDEX api_token_name_unique IS 'Unique index behind api_token_name_unique: lookups by name (revoke, list).';
COMMENT ON INDEX api_token_hash_unique IS 'Unique index behind api_token_hash_unique: the lookup of every authenticated request.';

-- imagereg_token_check(), the responder's only way to this table: sql/functions/40_imagereg_token_check.sql.


CREATE TABLE registry_audit (
	id             bigint      GENERATED ALWAYS AS IDENTITY,
	at             timestamptz NOT NULL DEFAULT clock_timestamp(),
	txid           bigint      NOT NULL DEFAULT txid_current(),
	actor          text        NOT NULL,
	operation      text        NOT NULL,
	registry_id    text        NOT NULL,
	changed_fields text[]      NOT NULL,

	CONSTRAINT registry_audit_pkey PRIMARY KEY (id),
	CONSTRAINT registry_audit_operation_known CHECK (operation IN ('insert', 'update', 'delete'))
);

COMMENT ON TABLE registry_audit IS
	'Who changed which registry when: one row per registry and operation per transaction, written by the registry_audit trigger for every writer. Holds field names, never values: no credential, not even sealed.';
COMMENT ON COLUMN registry_audit.id IS 'Surrogate key, in write order.';
COMMENT ON COLUMN registry_audit.at IS 'When the change was made.';
COMMENT ON COLUMN registry_audit.txid IS 'Transaction that made the change; rows of one transaction share it.';
COMMENT ON COLUMN registry_audit.actor IS
	'The API token name the responder passed in the setting imagereg.actor; for other writers sql:<session user> (a DBA in psql), or cli:<command> for the admin CLI.';
COMMENT ON COLUMN registry_audit.operation IS 'insert, update or delete.';
COMMENT ON COLUMN registry_audit.registry_id IS 'The registry changed (no foreign key: deleted registries keep their history).';
COMMENT ON COLUMN registry_audit.changed_fields IS
	'API field names set by an insert or changed by an update (access_key and secret_key by name only; updated_at left out); empty for a delete.';
COMMENT ON CONSTRAINT registry_audit_pkey ON registry_audit IS 'Audit ids are unique.';
COMMENT ON CONSTRAINT registry_audit_operation_known ON registry_audit IS 'operation is insert, update or delete.';
COMMENT ON INDEX registry_audit_pkey IS 'Unique index behind registry_audit_pkey.';

CREATE INDEX registry_audit_by_registry ON registry_audit (registry_id, id);
COMMENT ON INDEX registry_audit_by_registry IS 'History of one registry, oldest first.';

-- The trigger registry_audit and its function registry_audit_row(): sql/functions/50_registry_audit_row.sql.
-- The write functions imagereg_registry_*: sql/functions/7*.sql.


-- Privileges on tables; each function's own grants are in its file under sql/functions/.
REVOKE ALL ON registry, api_token, registry_audit, schema_migration FROM PUBLIC;

DO $$
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA %I TO imagereg_app, imagereg_readonly', current_schema());
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON registry TO imagereg_app;
GRANT USAGE ON SEQUENCE registry_id_counter TO imagereg_app;

GRANT SELECT (id, address, provider, namespace, region, is_default, enable_tls, tls_cert,
              created_at, updated_at, credentials_updated_at) ON registry TO imagereg_readonly;
GRANT SELECT (id, name, scope, created_at, last_used_at, revoked_at) ON api_token TO imagereg_readonly;
GRANT SELECT ON registry_audit, schema_migration TO imagereg_readonly;
