-- sql/functions/24_registry_refuse_truncate.sql -- TRUNCATE would empty registry past the audit trail.
--
-- Row triggers do not fire for TRUNCATE, so registry_audit would not learn what went. Refused for every role,
-- the table's owner included; DELETE FROM registry does the same and is audited. (imagereg_app and
-- imagereg_readonly have no TRUNCATE privilege in the first place.)
CREATE OR REPLACE FUNCTION registry_refuse_truncate() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
BEGIN
	RAISE EXCEPTION 'TRUNCATE of % is not allowed: it would bypass the audit trail', TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege',
		      HINT = 'Use DELETE FROM registry, which registry_audit records row by row.';
END
$$;

COMMENT ON FUNCTION registry_refuse_truncate() IS
	'Trigger function of registry_refuse_truncate: raises 42501, so TRUNCATE registry fails for every role and nothing leaves the table unaudited.';

CREATE OR REPLACE TRIGGER registry_refuse_truncate
	BEFORE TRUNCATE ON registry
	FOR EACH STATEMENT
	EXECUTE FUNCTION registry_refuse_truncate();

COMMENT ON TRIGGER registry_refuse_truncate ON registry IS
	'Refuses TRUNCATE registry (use DELETE, which is audited).';

REVOKE ALL ON FUNCTION registry_refuse_truncate() FROM PUBLIC;
