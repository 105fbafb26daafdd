-- sql/006_hardening.sql -- sixth migration: a non-superuser owner for the SECURITY DEFINER functions, the real
-- login in the audit trail, and CHECKs that accept exactly what the API accepts.
--
-- Like every migration it runs inside the migrator's transaction and holds table changes only: the functions,
-- triggers and views are in sql/functions/, applied after the numbered migrations.
--
-- Constraint names and their client messages (the C side maps them as for 001; sql/CONSTRAINTS.txt holds the list):
--
--   registry_address_port_range   address has an invalid port
--   registry_namespace_trimmed    namespace must not start or end with white space
--   registry_region_trimmed       region must not start or end with white space
--   registry_tls_cert_is_pem      tls_cert must be one or more PEM X.509 certificates (-----BEGIN CERTIFICATE-----)
--
-- registry_address_is_http_url keeps its name and message and now spells out the API's whole address rule.
-- A database holding a row that breaks one of them stops this migration with PostgreSQL's "check constraint ... is
-- violated by some row": correct the row (the API would refuse it too), then migrate again.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'imagereg_owner') THEN
		CREATE ROLE imagereg_owner NOLOGIN;
	END IF;
	-- Whatever someone made of it by hand: never able to log in or to step past the grants below.
	ALTER ROLE imagereg_owner NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
	EXECUTE format('GRANT USAGE ON SCHEMA %I TO imagereg_owner', current_schema());
END
$$;

COMMENT ON ROLE imagereg_owner IS
	'imagereg: owns the SECURITY DEFINER functions imagereg_token_check and registry_audit_row, and may do only what they do (read api_token and stamp last_used_at; append to and merge registry_audit rows). NOLOGIN, not a superuser: nobody logs in as it or is granted it.';

GRANT SELECT, UPDATE (last_used_at) ON api_token TO imagereg_owner;
GRANT SELECT, INSERT, UPDATE (changed_fields) ON registry_audit TO imagereg_owner;


-- The login behind every audit row. Rows written before this migration did not record it.
ALTER TABLE registry_audit ADD COLUMN login text;
UPDATE registry_audit SET login = 'unknown';
ALTER TABLE registry_audit ALTER COLUMN login SET NOT NULL;

COMMENT ON COLUMN registry_audit.login IS
	'session_user of the writing session: the role that logged in, which no SET can change. ''unknown'' on rows written before migration 006.';
COMMENT ON COLUMN registry_audit.actor IS
	'On whose behalf: the API token name for the responder''s writes (honoured only from sessions of a non-superuser member of imagereg_app), cli:<command> for the admin CLI, otherwise sql:<login>.';


-- The address rule of cgi/validate.c address_valid(), as one pattern: scheme (any case); a host that is a name or
-- IPv4 address of letters, digits, '-', '.' and '_', or a [bracketed] IPv6 literal; an optional :port of 1-5
-- digits; then nothing, or / ? # and the rest without white space or control characters. So no user information
-- (@), no backslash, no non-ASCII host. The port's value is registry_address_port_range's.
ALTER TABLE registry
	DROP CONSTRAINT registry_address_is_http_url,
	ADD CONSTRAINT registry_address_is_http_url CHECK (address ~
		'^[Hh][Tt][Tt][Pp][Ss]?://(\[[-A-Za-z0-9._:[]+\]|[-A-Za-z0-9._]+)(:[0-9]{1,5})?([/?#][^\x01-\x20\x7f]*)?$'),
	ADD CONSTRAINT registry_address_port_range CHECK (coalesce(substring(address FROM
		'^[A-Za-z]+://(?:\[[^]]*\]|[^:/?#]*):([0-9]{1,5})(?:[/?#]|$)')::integer, 1) BETWEEN 1 AND 65535),
	ADD CONSTRAINT registry_namespace_trimmed CHECK (namespace !~ '^[ \t\n\v\f\r]|[ \t\n\v\f\r]$'),
	ADD CONSTRAINT registry_region_trimmed CHECK (region !~ '^[ \t\n\v\f\r]|[ \t\n\v\f\r]$'),
	-- Blank (the API's blank: space, tab, CR, LF), or PEM armour: at least one CERTIFICATE block of base64 lines,
	-- no block left damaged, no private key anywhere. The API also parses the X.509 inside.
	ADD CONSTRAINT registry_tls_cert_is_pem CHECK (tls_cert ~ '^[ \t\r\n]*$' OR (
		tls_cert ~ '-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=]+\r?\n)+-----END CERTIFICATE-----'
		AND strpos(tls_cert, 'PRIVATE KEY-----') = 0
		AND regexp_replace(tls_cert, '-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=]+\r?\n)+-----END CERTIFICATE-----',
		                   '', 'g') !~ '-----(BEGIN|END) CERTIFICATE-----'));

COMMENT ON CONSTRAINT registry_address_is_http_url ON registry IS
	'address is http:// or https:// (any case), a host of letters, digits, -, . and _ or a [bracketed IPv6 literal], an optional :port, then nothing or /, ? or # and no white space or control characters: exactly the API''s rule. Client message: address must be an absolute http:// or https:// URL with a host and no user name.';
COMMENT ON CONSTRAINT registry_address_port_range ON registry IS
	'A port in address is 1 to 65535. Client message: address has an invalid port.';
COMMENT ON CONSTRAINT registry_namespace_trimmed ON registry IS
	'namespace does not start or end with white space (the API trims it). Client message: namespace must not start or end with white space.';
COMMENT ON CONSTRAINT registry_region_trimmed ON registry IS
	'region does not start or end with white space (the API trims it). Client message: region must not start or end with white space.';
COMMENT ON CONSTRAINT registry_tls_cert_is_pem ON registry IS
	'tls_cert is NULL, blank, or PEM: one or more -----BEGIN CERTIFICATE----- blocks of base64, none damaged, no private key. Client message: tls_cert must be one or more PEM X.509 certificates (-----BEGIN CERTIFICATE-----).';


-- registry_before_update now bumps the version itself, and only for a real change.
DROP TRIGGER IF EXISTS registry_version_bump ON registry;
DROP FUNCTION IF EXISTS registry_bump_version();

COMMENT ON COLUMN registry.version IS
	'Row version: 1 when inserted, plus 1 on every UPDATE that changes the row (trigger registry_before_update), also when the default moved to or away from it; a no-op UPDATE keeps it. The API sends it as the strong ETag "<version>" and compares If-Match with it. Values set by hand are overwritten by the trigger.';
COMMENT ON COLUMN registry.credentials_updated_at IS
	'When access_key or secret_key was last set or cleared, by whoever wrote them (the triggers derive it from the sealed columns); NULL if never. Key rotation (`imagereg key rotate`) does not change it.';
COMMENT ON COLUMN registry.updated_at IS
	'When the row last changed, set by the registry_before_update trigger (also when the row lost or gained the default; not by a no-op UPDATE).';

COMMENT ON ROLE imagereg_app IS
	'imagereg responder: SELECT/INSERT/UPDATE/DELETE on registry and registry_idempotency, SELECT on registry_overview, EXECUTE on the imagereg_registry_* and imagereg_token_check functions; no DDL, no TRUNCATE. Grant it to the login role in the responder''s dsn.';
COMMENT ON ROLE imagereg_readonly IS
	'imagereg reporting: SELECT * on registry_overview; SELECT on registry (all but the sealed credential columns), registry_audit, registry_idempotency, schema_migration and api_token (all but token_hash).';
