-- t070: the responder's login role, in psql, shadows every table and the sequence that a function or trigger of the
-- schema uses with temporary objects of its own (triggers on them call its own pg_temp function), puts pg_temp first
-- in search_path, and then writes through every path the schema offers. Nothing of its own may run: every function
-- and trigger must reach the real tables (pinned search_path, pg_temp last), the invariants must hold, the audit
-- must be written, and the SECURITY DEFINER token check must read the real api_token.
\ir lib/hostile_roles.sql
\ir lib/helpers.sql
INSERT INTO api_token (name, scope, token_hash) VALUES ('t070-token', 'write', sha256('t070'));
SELECT pg_temp.add('https://first.example');
SELECT pg_temp.add('https://second.example');

\c - imagereg_t_app
-- What the attacker's code would do if it ever ran: note who it ran as (a superuser or the owner would be an
-- escalation) and try to read what it should not.
CREATE TEMP TABLE evil_log (ran_as text, on_table text, saw text);
CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pg_temp.evil_log VALUES (current_user, TG_TABLE_NAME,
		(SELECT string_agg(rolname, ',') FROM pg_catalog.pg_authid));
	RETURN NULL;
EXCEPTION WHEN insufficient_privilege THEN
	INSERT INTO pg_temp.evil_log VALUES (current_user, TG_TABLE_NAME, NULL);
	RETURN NULL;
END
$$;
CREATE TEMP TABLE registry AS SELECT * FROM public.registry WITH NO DATA;
CREATE TEMP TABLE registry_audit (id bigint, at timestamptz, txid bigint, actor text, login text, operation text,
	registry_id text, changed_fields text[]);
CREATE TEMP TABLE api_token (id bigint, name text, scope text, token_hash bytea, created_at timestamptz,
	last_used_at timestamptz, revoked_at timestamptz);
CREATE TEMP TABLE registry_idempotency (actor text, key text, fingerprint bytea, registry_id text, created_at timestamptz);
CREATE TEMP TABLE schema_migration (version text, applied_at timestamptz);
CREATE TEMP SEQUENCE registry_id_counter START 4242;
-- A row in the fake api_token that would let any hash pass as a write token, and fake defaults in the fake registry.
INSERT INTO pg_temp.api_token (name, scope, token_hash) VALUES ('forged', 'write', sha256('guess'));
INSERT INTO pg_temp.registry (id, address, provider, namespace, is_default, enable_tls, created_at, updated_at, version)
	VALUES ('aaaaaaaaaaaaaaaaaaaaaaaa', 'https://fake', 'native', 'ns', true, false, now(), now(), 1);
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['registry', 'registry_audit', 'api_token', 'registry_idempotency', 'schema_migration'] LOOP
		EXECUTE format('CREATE TRIGGER evil BEFORE INSERT OR UPDATE OR DELETE ON pg_temp.%I
			FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil()', t);
	END LOOP;
END
$$;
SET search_path = pg_temp, public;

-- Every way in: the API's write functions, plain DML, the token check.
SELECT registry_id AS new_id FROM imagereg_registry_create('console', 'https://third.example', 'native', NULL, 'ns',
	true, NULL, NULL, false, NULL, 'k-070') \gset
SELECT found FROM imagereg_registry_update('console', :'new_id', 'https://third.example', 'native', NULL, 'ns2',
	true, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.registry (address, provider, namespace) VALUES ('https://fourth.example', 'native', 'ns');
DELETE FROM public.registry WHERE is_default;
SELECT count(*) AS token_rows FROM imagereg_token_check(sha256('guess')) \gset
SELECT name AS token_name FROM imagereg_token_check(sha256('t070')) \gset
DO $$
BEGIN
	ASSERT NOT EXISTS (SELECT 1 FROM pg_temp.evil_log),
		format('the attacker''s trigger ran: %s', (SELECT string_agg(format('%s on %s', ran_as, on_table), '; ') FROM pg_temp.evil_log));
	ASSERT (SELECT count(*) FROM pg_temp.registry) = 1 AND (SELECT count(*) FROM pg_temp.registry_audit) = 0
	       AND (SELECT count(*) FROM pg_temp.registry_idempotency) = 0,
		'a function wrote into the caller''s temporary tables';
	ASSERT (SELECT last_value FROM pg_temp.registry_id_counter) = 4242, 'the id generator used the caller''s sequence';
END
$$;
\if :token_rows
	\echo 'imagereg_token_check accepted a hash from the caller''s temporary api_token'
	SELECT 1/0;
\endif
SELECT :'token_name' = 't070-token' AS real_token \gset
\if :real_token
\else
	\echo 'imagereg_token_check did not find the real token'
	SELECT 1/0;
\endif

\c - postgres
\ir lib/helpers.sql
SELECT set_config('t070.new_id', :'new_id', false);
DO $$
BEGIN
	-- first, second, third inserted, third updated and made default then deleted, fourth inserted.
	ASSERT (SELECT count(*) FROM registry) = 3, format('%s rows', (SELECT count(*) FROM registry));
	PERFORM pg_temp.the_default();
	ASSERT (SELECT array_agg(operation ORDER BY id) FROM registry_audit
	        WHERE login = 'imagereg_t_app' AND registry_id = current_setting('t070.new_id')) = '{insert,update,delete}',
		format('audit rows of imagereg_t_app: %s', (SELECT json_agg(a) FROM registry_audit a));
	ASSERT (SELECT count(*) FROM registry_idempotency WHERE key = 'k-070') = 1, 'the Idempotency-Key went elsewhere';
	ASSERT (SELECT last_used_at IS NOT NULL FROM api_token WHERE name = 't070-token'), 'the token check stamped no real row';
END
$$;
