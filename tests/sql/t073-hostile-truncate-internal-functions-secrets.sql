-- t073: TRUNCATE, internal functions, secret columns, trigger switches and the owner role are out of reach of the
-- responder's role and the read-only role; TRUNCATE is refused even for the table's owner.
\ir lib/hostile_roles.sql
\ir lib/helpers.sql
SELECT pg_temp.add('https://first.example');
SELECT pg_temp.expect_error('TRUNCATE registry', '42501', NULL);
-- Runs stmt as role and requires 42501. SET LOCAL ROLE keeps the superuser as session_user, so SET ROLE itself is
-- tried from real logins below.
CREATE FUNCTION pg_temp.denied_as(role name, stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SET LOCAL ROLE %I', role);
	PERFORM pg_temp.expect_error(stmt, '42501', NULL);
	RESET ROLE;
END
$$;
DO $$
DECLARE
	stmt text;
BEGIN
	FOREACH stmt IN ARRAY ARRAY[
		'TRUNCATE registry',
		'SELECT * FROM registry_audit',
		'INSERT INTO registry_audit (actor, login, operation, registry_id, changed_fields) VALUES (''x'', ''x'', ''insert'', ''x'', ''{}'')',
		'DELETE FROM registry_audit',
		'SELECT * FROM api_token',
		'UPDATE api_token SET revoked_at = NULL',
		'SET session_replication_role = replica',
		'ALTER TABLE registry DISABLE TRIGGER registry_audit',
		'SELECT registry_lock_writers()',
		'SELECT registry_settle_default()',
		'SELECT imagereg_notify_change()',
		'CREATE TABLE public.planted (x int)',
		'CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $f$ SELECT $1 $f$'] LOOP
		PERFORM pg_temp.denied_as('imagereg_t_app', stmt);
	END LOOP;
	FOREACH stmt IN ARRAY ARRAY[
		'SELECT * FROM registry',
		'SELECT secret_key_sealed FROM registry',
		'SELECT access_key_sealed FROM registry',
		'SELECT token_hash FROM api_token',
		'SELECT * FROM imagereg_token_check(''\x00''::bytea)',
		'SELECT * FROM imagereg_registry_delete(''x'', ''x'', NULL)',
		'INSERT INTO registry (address, provider, namespace) VALUES (''https://r'', ''native'', ''ns'')',
		'DELETE FROM registry',
		'TRUNCATE registry',
		'SELECT registry_claim_default(''x'')'] LOOP
		PERFORM pg_temp.denied_as('imagereg_t_reader', stmt);
	END LOOP;
END
$$;
-- What the read-only role is for: every non-secret column, SELECT * included, through the overview.
-- SET ROLE is judged by the login: neither hostile login may become the owner, nor the reader the responder.
\c - imagereg_t_app
DO $$ BEGIN SET ROLE imagereg_owner; RAISE EXCEPTION 'imagereg_t_app became imagereg_owner';
EXCEPTION WHEN insufficient_privilege THEN NULL; END $$;
\c - imagereg_t_reader
DO $$ BEGIN SET ROLE imagereg_app; RAISE EXCEPTION 'imagereg_t_reader became imagereg_app';
EXCEPTION WHEN insufficient_privilege THEN NULL; END $$;
DO $$ BEGIN SET ROLE imagereg_owner; RAISE EXCEPTION 'imagereg_t_reader became imagereg_owner';
EXCEPTION WHEN insufficient_privilege THEN NULL; END $$;
SELECT count(*) AS overview_rows, bool_and(default_marker = '*') AS marked FROM registry_overview WHERE is_default \gset
SELECT :overview_rows = 1 AND :'marked' = 't' AS overview_ok \gset
\if :overview_ok
\else
	\echo 'imagereg_readonly cannot SELECT * from registry_overview or the default is not marked'
	SELECT 1/0;
\endif
SELECT * FROM registry_audit LIMIT 1;
SELECT id, name, scope FROM api_token LIMIT 1;
