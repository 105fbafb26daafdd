-- sql/functions/23_registry_settle_default.sql -- after each statement: exactly one default when rows remain.
--
-- Carries out the statement's pending "make X default" (clear first, then set: in one UPDATE the unique index could
-- see two defaults between rows), then, if rows remain and none is default (the default was deleted), promotes the
-- oldest. INSERT runs it too: INSERT ... ON CONFLICT DO UPDATE fires the INSERT and the UPDATE statement triggers,
-- in an order of PostgreSQL's choosing, and whichever comes first must do the move. Internal statements (depth > 1)
-- skip this: the clearing UPDATE would otherwise promote the oldest row between our two steps.
CREATE OR REPLACE FUNCTION registry_settle_default() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
DECLARE
	pending text := registry_pending_default();
BEGIN
	IF pg_trigger_depth() > 1 THEN
		RETURN NULL;
	END IF;
	IF pending IS NOT NULL THEN
		PERFORM set_config('imagereg.pending_default', '', true);
		UPDATE registry SET is_default = false WHERE is_default AND id <> pending;
		UPDATE registry SET is_default = true WHERE id = pending AND NOT is_default;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM registry WHERE is_default) THEN
		UPDATE registry SET is_default = true
		WHERE id = (SELECT id FROM registry ORDER BY created_at, id LIMIT 1);
	END IF;
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION registry_settle_default() IS
	'Trigger function of registry_settle_default: moves the default to the row named in imagereg.pending_default (set by registry_claim_default), then makes the oldest row (created_at, id) the default if rows remain and none is.';

CREATE OR REPLACE TRIGGER registry_settle_default
	AFTER INSERT OR UPDATE OR DELETE ON registry
	FOR EACH STATEMENT
	EXECUTE FUNCTION registry_settle_default();

COMMENT ON TRIGGER registry_settle_default ON registry IS
	'After every top-level INSERT, UPDATE or DELETE statement: moves the default to the row the statement asked for, and promotes the oldest remaining row when the default was deleted.';

REVOKE ALL ON FUNCTION registry_settle_default() FROM PUBLIC;
