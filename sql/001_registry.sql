-- sql/001_registry.sql -- first migration: the registry table, its id generator and the default-registry triggers.
--
-- Applied by the migrator inside one transaction, which then records '001_registry' in schema_migration: this file
-- has no transaction control of its own (the BEGIN ... END below are PL/pgSQL blocks inside $$ bodies) and no psql
-- meta-commands, so it must be sent to the server as one multi-statement string, not split on ';'.
--
-- Constraint names and their client messages. The C code maps the CONSTRAINT_NAME of a failed statement to the
-- message. sql/CONSTRAINTS.txt holds the list for the schema after all migrations as `name<TAB>message` lines; a
-- later migration that adds or drops a constraint updates it (tests/sql/t041 checks the file against the database,
-- against this block and against the constraints' comments).
--
--   registry_pkey                              a registry with this id already exists
--   registry_id_is_object_id                   id must be 24 lowercase hexadecimal characters
--   registry_id_immutable                      id cannot be changed
--   registry_address_has_no_surrounding_space  address must not start or end with white space
--   registry_address_is_http_url               address must be an absolute http:// or https:// URL with a host and no user name
--   registry_address_length                    address must be 1 to 2048 bytes long
--   registry_provider_known                    provider must be one of acr, tcr, swr, ecr, dockerhub, harbor, nexus, native
--   registry_namespace_required                namespace cannot be empty
--   registry_namespace_length                  namespace must be at most 255 bytes long
--   registry_region_required_for_ecr           region is required when provider is ecr
--   registry_region_length                     region must be at most 64 bytes long
--   registry_access_key_length                 access_key must be at most 1024 bytes long
--   registry_secret_key_length                 secret_key must be at most 4096 bytes long
--   registry_tls_cert_required                 tls_cert is required when enable_tls is true
--   registry_tls_cert_length                   tls_cert must be at most 65536 bytes long
--   registry_one_default                       only one registry can be the default
--   schema_migration_pkey                      this migration has already been applied
--
-- SQLSTATEs: CHECKs and registry_id_immutable raise 23514 (check_violation); registry_pkey, registry_one_default and
-- schema_migration_pkey raise 23505 (unique_violation). registry_id_immutable is not in pg_constraint: the
-- registry_before_update trigger raises it with that constraint name. NOT NULL columns cannot carry a name in
-- PostgreSQL 15: their violation is 23502 with COLUMN_NAME set and an empty CONSTRAINT_NAME.
--
-- When a value breaks several CHECKs, PostgreSQL 15 reports the first by constraint name (it evaluates them in
-- name order). The address names are chosen so that ' https://x' reports the white space, not the URL shape.
--
-- Default registry: whenever the table has rows, exactly one has is_default = true, whoever writes (the service or
-- a DBA in psql). Every writing statement first takes the transaction-level advisory lock
-- 7596835243155416423 (= 0x696d616765726567, the ASCII bytes of "imagereg"), so registry writers run one after the
-- other. Setting is_default = true on a row moves the default there; setting it to false on the default is
-- ignored; deleting the default promotes the oldest remaining row. See sql/functions/2*.sql for the details.

CREATE TABLE schema_migration (
	version    text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT schema_migration_pkey PRIMARY KEY (version)
);

COMMENT ON TABLE schema_migration IS
	'Migrations applied to this database, one row per sql/NNN_name.sql file. The migrator inserts the row in the same transaction as the file; nothing else writes here.';
COMMENT ON COLUMN schema_migration.version IS
	'File name of the migration without directory and .sql suffix, e.g. 001_registry.';
COMMENT ON COLUMN schema_migration.applied_at IS
	'Start time of the transaction that applied the migration.';
COMMENT ON CONSTRAINT schema_migration_pkey ON schema_migration IS
	'A migration is applied at most once.';
COMMENT ON INDEX schema_migration_pkey IS
	'Unique index behind schema_migration_pkey; the migrator looks versions up here.';


CREATE SEQUENCE registry_id_counter
	AS integer
	MINVALUE 0
	MAXVALUE 16777215
	START WITH 0
	CYCLE;

COMMENT ON SEQUENCE registry_id_counter IS
	'3-byte counter (0..16777215, wraps around) that forms the last 6 hex digits of registry ids made by imagereg_object_id(). Wrapping is harmless: the id also holds the time and 5 random bytes.';

-- The id default, imagereg_object_id(), is set by sql/functions/10_imagereg_object_id.sql.

CREATE TABLE registry (
	id         text        NOT NULL,
	address    text        NOT NULL,
	provider   text        NOT NULL,
	namespace  text        NOT NULL DEFAULT '',
	region     text        NOT NULL DEFAULT '',
	is_default boolean     NOT NULL DEFAULT false,
	access_key text,
	secret_key text,
	enable_tls boolean     NOT NULL DEFAULT false,
	tls_cert   text,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),

	CONSTRAINT registry_pkey PRIMARY KEY (id),
	CONSTRAINT registry_id_is_object_id CHECK (id ~ '^[0-9a-f]{24}$'),
	-- An explicit ASCII white-space set: [[:space:]] would depend on the database's locale, so a dump could fail to
	-- load into a database with another one.
	CONSTRAINT registry_address_has_no_surrounding_space CHECK (address !~ '^[ \t\n\v\f\r]|[ \t\n\v\f\r]$'),
	-- Scheme, then a non-empty host (name, IPv4 or [IPv6], optional :port) that ends at the first / ? # or at the
	-- end. '@' and white space cannot occur in the host, so 'https://user:pw@host' is refused: credentials belong
	-- in access_key/secret_key, not in an address that is listed to every client.
	CONSTRAINT registry_address_is_http_url CHECK (address ~* '^https?://[^/?#@[:space:][:cntrl:]]+([/?#]|$)'),
	CONSTRAINT registry_address_length CHECK (octet_length(address) BETWEEN 1 AND 2048),
	CONSTRAINT registry_provider_known
		CHECK (provider IN ('acr', 'tcr', 'swr', 'ecr', 'dockerhub', 'harbor', 'nexus', 'native')),
	-- "Not empty" means: has a character outside the ASCII white-space set (btrim() alone would let a tab through).
	CONSTRAINT registry_namespace_required CHECK (provider = 'ecr' OR namespace ~ '[^ \t\n\v\f\r]'),
	CONSTRAINT registry_namespace_length CHECK (octet_length(namespace) <= 255),
	CONSTRAINT registry_region_required_for_ecr CHECK (provider <> 'ecr' OR region ~ '[^ \t\n\v\f\r]'),
	CONSTRAINT registry_region_length CHECK (octet_length(region) <= 64),
	CONSTRAINT registry_access_key_length CHECK (octet_length(access_key) <= 1024),
	CONSTRAINT registry_secret_key_length CHECK (octet_length(secret_key) <= 4096),
	-- coalesce: with a NULL tls_cert the regex would yield NULL, and a CHECK that yields NULL passes.
	CONSTRAINT registry_tls_cert_required CHECK (NOT enable_tls OR coalesce(tls_cert, '') ~ '[^ \t\n\v\f\r]'),
	CONSTRAINT registry_tls_cert_length CHECK (octet_length(tls_cert) <= 65536)
);

COMMENT ON TABLE registry IS
	'Container image registries the service pushes to and pulls from (Zadig''s "image repositories"). Whenever the table has rows, exactly one has is_default = true: the triggers registry_serialize_writers, registry_before_insert, registry_before_update and registry_settle_default keep it so for every writer; the index registry_one_default is the backstop.';

COMMENT ON COLUMN registry.id IS
	'Registry id, 24 lowercase hex digits shaped like a MongoDB ObjectID (Zadig''s registry_id). Made by imagereg_object_id(); cannot be changed once inserted.';
COMMENT ON COLUMN registry.address IS
	'Registry URL including the scheme, e.g. https://registry.example.com or http://[::1]:5000; 1..2048 bytes, no surrounding white space, no user name in the host part.';
COMMENT ON COLUMN registry.provider IS
	'Kind of registry: acr (Alibaba Cloud ACR), tcr (Tencent Cloud TCR), swr (Huawei Cloud SWR), ecr (Amazon ECR), dockerhub, harbor, nexus, native (any other).';
COMMENT ON COLUMN registry.namespace IS
	'Namespace (project, organisation) inside the registry that images go to; required except for ecr; at most 255 bytes; empty string when absent.';
COMMENT ON COLUMN registry.region IS
	'Cloud region of the registry; required for ecr, otherwise informative; at most 64 bytes; empty string when absent.';
COMMENT ON COLUMN registry.is_default IS
	'True on the one registry used when a caller names none. Setting it true moves the default to this row; setting it false on the default is ignored (make another row default instead). In an UPDATE the move happens when the statement ends, so UPDATE ... RETURNING still shows false for the new default.';
COMMENT ON COLUMN registry.access_key IS
	'Access key or user name for the registry (Zadig''s AK); NULL when the registry needs no login; at most 1024 bytes. Never returned by the list/get API.';
COMMENT ON COLUMN registry.secret_key IS
	'Secret key or password for the registry (Zadig''s SK); NULL when none; at most 4096 bytes. A credential: never returned by the API and never logged.';
COMMENT ON COLUMN registry.enable_tls IS
	'True when the service must verify the registry''s TLS certificate against tls_cert.';
COMMENT ON COLUMN registry.tls_cert IS
	'PEM text of the certificate (or CA) to trust for this registry; required when enable_tls is true; at most 65536 bytes.';
COMMENT ON COLUMN registry.created_at IS
	'When the row was inserted. The registry_before_update trigger keeps it unchanged; oldest-first order (created_at, id) decides which row is promoted when the default is deleted.';
COMMENT ON COLUMN registry.updated_at IS
	'When the row was last updated, set by the registry_before_update trigger on every UPDATE (also when the row lost or gained the default).';

COMMENT ON CONSTRAINT registry_pkey ON registry IS
	'Registry ids are unique. Client message: a registry with this id already exists.';
COMMENT ON CONSTRAINT registry_id_is_object_id ON registry IS
	'id is 24 lowercase hex digits, like the ids imagereg_object_id() makes. Client message: id must be 24 lowercase hexadecimal characters.';
COMMENT ON CONSTRAINT registry_address_has_no_surrounding_space ON registry IS
	'address does not start or end with a space, tab, newline, vertical tab, form feed or carriage return. Client message: address must not start or end with white space.';
COMMENT ON CONSTRAINT registry_address_is_http_url ON registry IS
	'address starts with http:// or https:// (any case) and a non-empty host without white space, control characters or @, ended by /, ?, # or the end of the string. Client message: address must be an absolute http:// or https:// URL with a host and no user name.';
COMMENT ON CONSTRAINT registry_address_length ON registry IS
	'address is 1 to 2048 bytes long (bytes, not characters). Client message: address must be 1 to 2048 bytes long.';
COMMENT ON CONSTRAINT registry_provider_known ON registry IS
	'provider is one of the eight kinds Zadig knows, in lower case. Client message: provider must be one of acr, tcr, swr, ecr, dockerhub, harbor, nexus, native.';
COMMENT ON CONSTRAINT registry_namespace_required ON registry IS
	'Except for ecr, namespace has at least one character that is not white space. Client message: namespace cannot be empty.';
COMMENT ON CONSTRAINT registry_namespace_length ON registry IS
	'namespace is at most 255 bytes. Client message: namespace must be at most 255 bytes long.';
COMMENT ON CONSTRAINT registry_region_required_for_ecr ON registry IS
	'For ecr, region has at least one character that is not white space. Client message: region is required when provider is ecr.';
COMMENT ON CONSTRAINT registry_region_length ON registry IS
	'region is at most 64 bytes. Client message: region must be at most 64 bytes long.';
COMMENT ON CONSTRAINT registry_access_key_length ON registry IS
	'access_key is NULL or at most 1024 bytes. Client message: access_key must be at most 1024 bytes long.';
COMMENT ON CONSTRAINT registry_secret_key_length ON registry IS
	'secret_key is NULL or at most 4096 bytes. Client message: secret_key must be at most 4096 bytes long.';
COMMENT ON CONSTRAINT registry_tls_cert_required ON registry IS
	'When enable_tls is true, tls_cert is not NULL and has a character that is not white space. Client message: tls_cert is required when enable_tls is true.';
COMMENT ON CONSTRAINT registry_tls_cert_length ON registry IS
	'tls_cert is NULL or at most 65536 bytes. Client message: tls_cert must be at most 65536 bytes long.';

COMMENT ON INDEX registry_pkey IS
	'Unique index behind registry_pkey: lookups by id.';

CREATE UNIQUE INDEX registry_one_default ON registry ((true)) WHERE is_default;
COMMENT ON INDEX registry_one_default IS
	'Backstop for the default rule: at most one row with is_default = true, even if the triggers are disabled. With the triggers on it never fires. Client message: only one registry can be the default.';

CREATE INDEX registry_oldest_first ON registry (created_at, id);
COMMENT ON INDEX registry_oldest_first IS
	'Oldest-first order, used by the list endpoint and by registry_settle_default to pick the row promoted to default.';


-- The triggers that keep these rules (registry_serialize_writers, registry_before_insert, registry_before_update,
-- registry_settle_default) and their functions are in sql/functions/2*.sql, the one current text of each.
