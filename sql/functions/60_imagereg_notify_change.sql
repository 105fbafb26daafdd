-- sql/functions/60_imagereg_notify_change.sql -- change notifications for the responders' caches.
--
-- Every responder worker keeps the registry list and the tokens it has checked in memory and LISTENs on the
-- channel imagereg_change. These triggers NOTIFY it after every statement that changes what a worker may have
-- cached, whoever runs the statement. PostgreSQL delivers a notification only when the transaction commits, once per
-- distinct payload per transaction. For api_token (and a TRUNCATE of registry) the payload is the table name. For rows
-- of registry it is 'registry:' and the changed ids, comma-separated, one notification per statement, so that a
-- worker re-reads those rows only; a statement that changed more than 300 rows (the ids would near NOTIFY's
-- 8000-byte payload limit) sends 'registry', and the workers read the whole table again. Any other payload (or none:
-- a DBA's plain NOTIFY imagereg_change, or `imagereg cache flush`) makes every worker forget everything. api_token's
-- last_used_at stamps are not a change a cache cares about, so they notify nobody. Writes that bypass triggers
-- (session_replication_role = replica, disabled triggers) send nothing: cache_max_age bounds how long they go unseen.
CREATE OR REPLACE FUNCTION imagereg_notify_change() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
BEGIN
	PERFORM pg_notify('imagereg_change', TG_TABLE_NAME);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION imagereg_notify_change() IS
	'Statement trigger: NOTIFY imagereg_change with the table name as payload, delivered at commit. The responders forget what they cached from that table.';

REVOKE ALL ON FUNCTION imagereg_notify_change() FROM PUBLIC;

CREATE OR REPLACE FUNCTION imagereg_notify_registry_rows() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
DECLARE
	n bigint;
	ids text;
BEGIN
	-- changed_rows: the statement's transition table (new rows for INSERT and UPDATE, old ones for DELETE; ids never
	-- change). 300 ids of 24 characters and their commas stay under the 8000-byte payload limit.
	SELECT count(*), string_agg(id, ',') INTO n, ids FROM (SELECT id FROM changed_rows LIMIT 301) r;
	IF n > 300 THEN
		PERFORM pg_notify('imagereg_change', 'registry');
	ELSIF n > 0 THEN
		PERFORM pg_notify('imagereg_change', 'registry:' || ids);
	END IF;
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION imagereg_notify_registry_rows() IS
	'Statement trigger with a transition table changed_rows: NOTIFY imagereg_change with registry:<id>,<id>... (at most 300 ids), else registry. The responders re-read those rows only.';

REVOKE ALL ON FUNCTION imagereg_notify_registry_rows() FROM PUBLIC;

-- TRUNCATE has no transition table: the table name, and every worker reads the table again.
CREATE OR REPLACE TRIGGER registry_notify_change
	AFTER TRUNCATE ON registry
	FOR EACH STATEMENT
	EXECUTE FUNCTION imagereg_notify_change();

COMMENT ON TRIGGER registry_notify_change ON registry IS
	'Tells the responders (LISTEN imagereg_change) that registry was truncated, so no worker answers from a stale list.';

-- A trigger with transition tables may have one event only: three of them, one function.
CREATE OR REPLACE TRIGGER registry_notify_insert
	AFTER INSERT ON registry
	REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT
	EXECUTE FUNCTION imagereg_notify_registry_rows();

COMMENT ON TRIGGER registry_notify_insert ON registry IS
	'Tells the responders which registries were inserted (NOTIFY imagereg_change, registry:<ids>).';

CREATE OR REPLACE TRIGGER registry_notify_update
	AFTER UPDATE ON registry
	REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT
	EXECUTE FUNCTION imagereg_notify_registry_rows();

COMMENT ON TRIGGER registry_notify_update ON registry IS
	'Tells the responders which registries were updated (NOTIFY imagereg_change, registry:<ids>).';

CREATE OR REPLACE TRIGGER registry_notify_delete
	AFTER DELETE ON registry
	REFERENCING OLD TABLE AS changed_rows
	FOR EACH STATEMENT
	EXECUTE FUNCTION imagereg_notify_registry_rows();

COMMENT ON TRIGGER registry_notify_delete ON registry IS
	'Tells the responders which registries were deleted (NOTIFY imagereg_change, registry:<ids>).';

CREATE OR REPLACE TRIGGER api_token_notify_change
	AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name, scope, token_hash, revoked_at ON api_token
	FOR EACH STATEMENT
	EXECUTE FUNCTION imagereg_notify_change();

COMMENT ON TRIGGER api_token_notify_change ON api_token IS
	'Tells the responders that a token was created, revoked, renamed, rescoped or deleted, so a revoked token fails on its next request. Not fired by last_used_at stamps.';
