-- t072: the audit records the real login on every row; a session that is not the responder's role cannot claim an
-- API token's name with SET imagereg.actor, and the responder's role is recorded under its own login whatever it
-- claims.
\ir lib/hostile_roles.sql
\ir lib/helpers.sql
SET imagereg.actor = 'ci-deployer';
SELECT pg_temp.add('https://by-dba.example') AS dba_id \gset
SET imagereg.actor = 'cli:key-rotate';
UPDATE registry SET namespace = 'cli' WHERE id = :'dba_id';
RESET imagereg.actor;
\c - imagereg_t_app
SET imagereg.actor = 'console';
INSERT INTO registry (address, provider, namespace) VALUES ('https://by-app.example', 'native', 'ns');
\c - postgres
DO $$
DECLARE
	got text;
BEGIN
	SELECT string_agg(format('%s/%s/%s', operation, actor, login), ' ' ORDER BY id) INTO got FROM registry_audit;
	ASSERT got = 'insert/sql:postgres/postgres update/cli:key-rotate/postgres insert/console/imagereg_t_app',
		format('audit actor/login: %s', got);
	ASSERT NOT EXISTS (SELECT 1 FROM registry_audit WHERE login IS NULL OR login = ''), 'a row without login';
END
$$;
