-- sql/functions/10_imagereg_object_id.sql -- the registry id generator and the column default that uses it.
--
-- Every file in sql/functions/ is the one current text of its functions, triggers and views. `imagereg migrate`
-- applies them all, in name order, after the numbered migrations (which hold only table changes), in one
-- transaction whose search_path is "<the schema>, pg_temp": each function freezes that path with
-- SET search_path FROM CURRENT, so pg_catalog is searched first (implicitly), then this schema, and a session's
-- temporary tables (pg_temp) last, where they can never stand in for ours. Every statement here must therefore be
-- safe to run again: CREATE OR REPLACE, and grants.

-- Mongo's ObjectID layout, because Zadig's clients have stored and compare such ids (registry_id). The random part
-- takes bytes 0-4 of a version-4 UUID: its fixed version and variant bits sit in bytes 6 and 8.
CREATE OR REPLACE FUNCTION imagereg_object_id() RETURNS text
	LANGUAGE sql
	VOLATILE
	SET search_path FROM CURRENT
AS $$
	SELECT lpad(to_hex(floor(extract(epoch FROM clock_timestamp()))::bigint & 4294967295), 8, '0')
	    || encode(substring(uuid_send(gen_random_uuid()) FROM 1 FOR 5), 'hex')
	    || lpad(to_hex(nextval('registry_id_counter')), 6, '0')
$$;

COMMENT ON FUNCTION imagereg_object_id() IS
	'New registry id shaped like a MongoDB ObjectID: 24 lowercase hex digits = 4-byte big-endian Unix time in seconds (8 hex) + 5 random bytes from gen_random_uuid() (10 hex) + the next value of registry_id_counter (6 hex). Default of registry.id.';

ALTER TABLE registry ALTER COLUMN id SET DEFAULT imagereg_object_id();

-- Every writer of registry evaluates the default.
REVOKE ALL ON FUNCTION imagereg_object_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_object_id() TO imagereg_app;
