-- sql/functions/21_registry_before_insert.sql -- the default rule and credentials_updated_at for inserted rows.
--
-- Which writes are "our own"? The triggers of registry issue UPDATEs on it themselves (clear the old default,
-- promote a row). Those must pass the rules that stop users from un-defaulting the default. They are recognised by
-- pg_trigger_depth() > 1: it needs no state that could be left behind or that a client could switch on with
-- SET imagereg.something = on, and it cannot be forgotten on an error path. The limit: an UPDATE of registry issued
-- from some other table's trigger would count as internal too. No such trigger exists.
--
-- One default per statement: a row that asks for is_default = true names itself in the transaction-local setting
-- imagereg.pending_default; a second, different row asking in the same statement is refused (23505,
-- registry_one_default), because which of the two would win depends on a row order PostgreSQL does not define.
-- registry_settle_default clears the setting when the statement ends. A client can set that setting itself, but it
-- gains nothing: at worst its own next statement is refused, or makes the named row default as it could directly.

-- The row this statement asked to make default, or NULL.
CREATE OR REPLACE FUNCTION registry_pending_default() RETURNS text
	LANGUAGE sql STABLE
	SET search_path FROM CURRENT
AS $$ SELECT nullif(current_setting('imagereg.pending_default', true), '') $$;

COMMENT ON FUNCTION registry_pending_default() IS
	'Used by the registry triggers: the id noted in imagereg.pending_default by registry_claim_default in this statement, or NULL.';

REVOKE ALL ON FUNCTION registry_pending_default() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry_pending_default() TO imagereg_app;

-- Raises the "one default per statement" error, or notes id as this statement's default.
CREATE OR REPLACE FUNCTION registry_claim_default(claimant text) RETURNS void
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
DECLARE
	pending text := registry_pending_default();
BEGIN
	IF pending IS NOT NULL AND pending <> claimant THEN
		RAISE EXCEPTION 'one statement asks for two default registries'
			USING ERRCODE = 'unique_violation',
			      CONSTRAINT = 'registry_one_default',
			      TABLE = 'registry',
			      DETAIL = format('Rows %s and %s both have is_default = true in this statement.', pending, claimant),
			      HINT = 'Make one registry the default per statement.';
	END IF;
	PERFORM set_config('imagereg.pending_default', claimant, true);
END
$$;

COMMENT ON FUNCTION registry_claim_default(text) IS
	'Used by the registry triggers: notes the row that asks to be default in this statement (imagereg.pending_default), or raises 23505 registry_one_default when another row of the same statement asked first.';

-- The row triggers run it as the writer: writers are imagereg_app members (or the table's owner).
REVOKE ALL ON FUNCTION registry_claim_default(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry_claim_default(text) TO imagereg_app;

-- A row inserted with is_default = true takes the default from the others at once (so INSERT ... RETURNING
-- is_default is accurate); a row inserted while no row is default becomes the default: the first row of an empty
-- table, or the first row after something (a DBA with triggers disabled) left the table without one. The row with
-- NEW.id is spared: in INSERT ... ON CONFLICT (id) DO UPDATE on the current default, touching it here would make the
-- update part fail with 21000 "cannot affect row a second time"; the update part follows the UPDATE rules.
-- credentials_updated_at: now when sealed credentials arrive without one (a restore brings its own), else NULL.
CREATE OR REPLACE FUNCTION registry_before_insert() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
BEGIN
	IF NEW.access_key_sealed IS NULL AND NEW.secret_key_sealed IS NULL THEN
		NEW.credentials_updated_at := NULL;
	ELSIF NEW.credentials_updated_at IS NULL THEN
		NEW.credentials_updated_at := clock_timestamp();
	END IF;
	IF NEW.is_default THEN
		PERFORM registry_claim_default(NEW.id);
		UPDATE registry SET is_default = false WHERE is_default AND id <> NEW.id;
	ELSIF NOT NEW.is_default AND NOT EXISTS (SELECT 1 FROM registry WHERE is_default) THEN
		NEW.is_default := true;   -- (a NULL is left alone for the NOT NULL check to refuse)
	END IF;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION registry_before_insert() IS
	'Trigger function of registry_before_insert: if the new row asks to be default, clears is_default on every other row (refusing a second such row in the same statement); if no row is default yet, makes the new row the default; sets credentials_updated_at when sealed credentials arrive without one.';

CREATE OR REPLACE TRIGGER registry_before_insert
	BEFORE INSERT ON registry
	FOR EACH ROW
	EXECUTE FUNCTION registry_before_insert();

COMMENT ON TRIGGER registry_before_insert ON registry IS
	'Before each inserted row: a row inserted with is_default = true becomes the only default (one such row per statement); the first row of a table without a default becomes the default.';

REVOKE ALL ON FUNCTION registry_before_insert() FROM PUBLIC;
