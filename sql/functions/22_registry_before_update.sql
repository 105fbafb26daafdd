-- sql/functions/22_registry_before_update.sql -- what every UPDATE of a registry row may and may not change.
--
-- A BEFORE ROW trigger cannot clear the old default itself: if the same statement has yet to reach that row (UPDATE
-- registry SET is_default = true WHERE id IN (...)), PostgreSQL stops the statement with SQLSTATE 27000 "tuple to
-- be updated was already modified by an operation triggered by the current command". So a row that asks to become
-- default is written with is_default = false, claims the statement's default (registry_claim_default, which refuses
-- a second claimant), and registry_settle_default moves the default there when the statement has finished. A row
-- that keeps is_default = true claims too: "UPDATE registry SET is_default = true" over several rows is refused,
-- whatever the row order.
--
-- version and updated_at change only when the row does: a no-op UPDATE keeps the ETag clients hold.
-- credentials_updated_at follows the sealed columns, whoever writes them, except for `imagereg key rotate`
-- (actor cli:key-rotate), which seals the same credentials again under a new key.
CREATE OR REPLACE FUNCTION registry_before_update() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
DECLARE
	-- Columns that describe a change rather than being one.
	bookkeeping constant text[] := ARRAY['updated_at', 'version', 'created_at', 'credentials_updated_at'];
BEGIN
	IF NEW.id IS DISTINCT FROM OLD.id THEN
		RAISE EXCEPTION 'registry id cannot be changed'
			USING ERRCODE = 'check_violation',
			      CONSTRAINT = 'registry_id_immutable',
			      TABLE = TG_TABLE_NAME,
			      SCHEMA = TG_TABLE_SCHEMA,
			      COLUMN = 'id',
			      DETAIL = format('The row with id %s was asked to take id %s.', OLD.id, NEW.id),
			      HINT = 'Insert a new row and delete the old one instead.';
	END IF;
	NEW.created_at := OLD.created_at;

	IF pg_trigger_depth() = 1 THEN
		IF OLD.is_default AND NOT NEW.is_default THEN
			NEW.is_default := true;
		ELSIF NEW.is_default THEN
			PERFORM registry_claim_default(NEW.id);
			NEW.is_default := OLD.is_default;
		END IF;
	END IF;

	IF NEW.access_key_sealed IS DISTINCT FROM OLD.access_key_sealed
	   OR NEW.secret_key_sealed IS DISTINCT FROM OLD.secret_key_sealed THEN
		NEW.credentials_updated_at := CASE
			WHEN current_setting('imagereg.actor', true) = 'cli:key-rotate' THEN OLD.credentials_updated_at
			WHEN NEW.access_key_sealed IS NULL AND NEW.secret_key_sealed IS NULL AND OLD.credentials_updated_at IS NULL
				THEN NULL
			ELSE clock_timestamp() END;
	ELSE
		NEW.credentials_updated_at := OLD.credentials_updated_at;
	END IF;

	IF to_jsonb(NEW) - bookkeeping = to_jsonb(OLD) - bookkeeping THEN
		NEW.updated_at := OLD.updated_at;
		NEW.version := OLD.version;
	ELSE
		NEW.updated_at := clock_timestamp();
		NEW.version := OLD.version + 1;
	END IF;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION registry_before_update() IS
	'Trigger function of registry_before_update: refuses a change of id (SQLSTATE 23514, constraint registry_id_immutable), keeps created_at, ignores is_default = false on the default, hands is_default = true to registry_settle_default (one such row per statement), derives credentials_updated_at from the sealed columns, and bumps version and updated_at only when the row really changes.';

CREATE OR REPLACE TRIGGER registry_before_update
	BEFORE UPDATE ON registry
	FOR EACH ROW
	EXECUTE FUNCTION registry_before_update();

COMMENT ON TRIGGER registry_before_update ON registry IS
	'Before each updated row: id cannot change, created_at stays, un-defaulting the default is ignored, a request to become default is carried out when the statement ends, version and updated_at move only with a real change.';

REVOKE ALL ON FUNCTION registry_before_update() FROM PUBLIC;
