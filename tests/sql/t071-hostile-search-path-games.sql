-- t071: whatever search_path a session sets (empty, pg_temp first, a schema of its own), the schema's functions and
-- triggers run with their pinned path and keep every rule.
\ir lib/hostile_roles.sql
\ir lib/helpers.sql
SELECT pg_temp.add('https://first.example');
\c - imagereg_t_app
SET search_path = '';
INSERT INTO public.registry (address, provider, namespace, is_default) VALUES ('https://a.example', 'native', 'ns', true);
SET search_path = pg_temp;
UPDATE public.registry SET namespace = 'changed' WHERE address = 'https://a.example';
SET search_path = pg_catalog, pg_temp, public;
SELECT set_config('t071.a_id', (SELECT id FROM public.registry WHERE address = 'https://a.example'), false) IS NOT NULL AS found \gset
SELECT :'found' = 't' AS found \gset
DELETE FROM public.registry WHERE address = 'https://a.example';
SELECT public.imagereg_object_id() ~ '^[0-9a-f]{24}$' AS id_ok \gset
\if :id_ok
\else
	SELECT 1/0;
\endif
-- The role cannot make a schema of its own to plant objects in, nor create in public.
SELECT has_database_privilege(current_database(), 'CREATE') AS can_create_schema,
       has_schema_privilege('public', 'CREATE') AS can_create_in_public \gset
\if :can_create_schema
	\echo 'the responder''s role may create schemas'
	SELECT 1/0;
\endif
\if :can_create_in_public
	\echo 'the responder''s role may create in public'
	SELECT 1/0;
\endif
SELECT current_setting('t071.a_id') AS a_id \gset
\c - postgres
\ir lib/helpers.sql
SELECT set_config('t071.a_id', :'a_id', false);
DO $$
BEGIN
	ASSERT (SELECT count(*) FROM registry) = 1;
	PERFORM pg_temp.the_default();
	ASSERT (SELECT array_agg(operation ORDER BY id) FROM registry_audit
	        WHERE login = 'imagereg_t_app' AND registry_id = current_setting('t071.a_id'))
	       = '{insert,update,delete}', format('audit: %s', (SELECT json_agg(a) FROM registry_audit a));
END
$$;
