-- tests/sql/lib/hostile_roles.sql -- login roles for the hostile-role tests; include with \ir as a superuser.
--   imagereg_t_app     logs in, member of imagereg_app: what the responder's own login can do in psql
--   imagereg_t_reader  logs in, member of imagereg_readonly: a reporting user
-- Roles are cluster-wide and the tests run in parallel: creating one that another test just created is fine.
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM (VALUES ('imagereg_t_app', 'imagereg_app'), ('imagereg_t_reader', 'imagereg_readonly')) v(name, grp) LOOP
		BEGIN
			EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', r.name, r.grp);
		EXCEPTION WHEN duplicate_object OR unique_violation THEN
			NULL;
		END;
	END LOOP;
END
$$;
-- Each test database was made from the template by the superuser: let the hostile roles connect and use TEMP,
-- as PUBLIC may in a default database.
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database()) \gexec
