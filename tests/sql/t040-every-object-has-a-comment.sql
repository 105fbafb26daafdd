-- t040: every table, column, index, sequence, constraint, trigger and function in the schema of registry has a COMMENT.
-- Fails naming each object without one, so a new uncommented column (anywhere in the schema) breaks the suite.
DO $$
DECLARE
	ns oid := (SELECT relnamespace FROM pg_class WHERE oid = 'registry'::regclass);
	missing text[];
BEGIN
	WITH objects(kind, name, descr) AS (
		SELECT 'relation', c.oid::regclass::text, obj_description(c.oid, 'pg_class')
		FROM pg_class c
		WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'f')
		UNION ALL
		SELECT 'column', a.attrelid::regclass::text || '.' || quote_ident(a.attname), col_description(a.attrelid, a.attnum)
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT 'constraint', quote_ident(co.conname) || ' on ' || co.conrelid::regclass::text, obj_description(co.oid, 'pg_constraint')
		FROM pg_constraint co
		WHERE co.connamespace = ns
		UNION ALL
		SELECT 'trigger', quote_ident(t.tgname) || ' on ' || t.tgrelid::regclass::text, obj_description(t.oid, 'pg_trigger')
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE c.relnamespace = ns AND NOT t.tgisinternal
		UNION ALL
		SELECT 'function', p.oid::regprocedure::text, obj_description(p.oid, 'pg_proc')
		FROM pg_proc p
		WHERE p.pronamespace = ns
		UNION ALL
		SELECT 'type', t.oid::regtype::text, obj_description(t.oid, 'pg_type')
		FROM pg_type t
		WHERE t.typnamespace = ns AND t.typtype IN ('d', 'e', 'r', 'm')
	)
	SELECT array_agg(kind || ' ' || name ORDER BY kind, name) INTO missing
	FROM objects o
	WHERE coalesce(btrim(o.descr), '') = ''
	  -- Objects that belong to an extension are documented by the extension; the sequence of an identity or serial
	  -- column is part of that column and documented by its comment.
	  AND NOT EXISTS (
		SELECT 1 FROM pg_depend d
		WHERE (d.deptype = 'e' OR (d.deptype IN ('i', 'a') AND d.classid = 'pg_class'::regclass
		                           AND d.refobjsubid > 0 AND o.kind = 'relation'
		                           AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S'))
		  AND d.objid IN (SELECT oid FROM pg_class WHERE oid::regclass::text = o.name
		                  UNION ALL SELECT oid FROM pg_proc WHERE oid::regprocedure::text = o.name));

	ASSERT missing IS NULL, format('objects without COMMENT: %s', array_to_string(missing, ', '));

	-- Guard against the query silently finding nothing.
	ASSERT col_description('registry'::regclass, 1) IS NOT NULL AND
	       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'registry'::regclass AND NOT tgisinternal) >= 4,
		'registry has no commented column or fewer than its 4 triggers';
END
$$;
