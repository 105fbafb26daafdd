-- t074: a catalog lint. Every function of the schema pins search_path with pg_temp last; no SECURITY DEFINER function
-- is owned by a superuser (their owner is imagereg_owner: NOLOGIN, nothing more); PUBLIC may execute no function of
-- the schema, touch no table of it, nor create in it.
DO $$
DECLARE
	ns oid := (SELECT relnamespace FROM pg_class WHERE oid = 'registry'::regclass);
	bad text;
BEGIN
	SELECT string_agg(p.oid::regprocedure::text || ' ' || coalesce(array_to_string(p.proconfig, ','), '(no SET)'), '; ')
	  INTO bad
	  FROM pg_proc p
	 WHERE p.pronamespace = ns
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
	   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c ~ '^search_path=.*(^|[ ,=])pg_temp$');
	ASSERT bad IS NULL, format('functions without a search_path ending in pg_temp: %s', bad);

	SELECT string_agg(p.oid::regprocedure::text || ' owned by ' || r.rolname, '; ') INTO bad
	  FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
	 WHERE p.pronamespace = ns AND p.prosecdef AND (r.rolsuper OR r.rolname <> 'imagereg_owner');
	ASSERT bad IS NULL, format('SECURITY DEFINER functions not owned by imagereg_owner: %s', bad);
	ASSERT (SELECT count(*) FROM pg_proc WHERE pronamespace = ns AND prosecdef) = 2,
		'expected exactly two SECURITY DEFINER functions (imagereg_token_check, registry_audit_row)';

	ASSERT (SELECT NOT rolsuper AND NOT rolcanlogin AND NOT rolcreaterole AND NOT rolcreatedb AND NOT rolbypassrls
	          AND NOT rolreplication FROM pg_roles WHERE rolname = 'imagereg_owner'), 'imagereg_owner has powers';
	ASSERT NOT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
	                   WHERE r.rolname = 'imagereg_owner'), 'some role is a member of imagereg_owner';

	SELECT string_agg(p.oid::regprocedure::text, '; ') INTO bad
	  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
	 WHERE p.pronamespace = ns AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e');
	ASSERT bad IS NULL, format('PUBLIC may execute: %s', bad);

	SELECT string_agg(c.oid::regclass::text || ' ' || a.privilege_type, '; ') INTO bad
	  FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
	 WHERE c.relnamespace = ns AND c.relkind IN ('r', 'v', 'S', 'm') AND a.grantee = 0;
	ASSERT bad IS NULL, format('PUBLIC has privileges on: %s', bad);

	ASSERT NOT has_schema_privilege('public', ns, 'CREATE'), 'PUBLIC may create objects in the schema';
END
$$;
