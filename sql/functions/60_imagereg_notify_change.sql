-- sql/functions/60_imagereg_notify_change.sql -- change notifications for the responders' caches.
--
-- Every responder worker keeps the registry list and the tokens it has checked in memory and LISTENs on the
-- channel imagereg_change. These triggers NOTIFY it after every statement that changes what a worker may have
-- cached, whoever runs the statement. PostgreSQL delivers a notification only when the transaction commits, once per
-- distinct payload per transaction; the payload is the table name. Any other payload (or none: a DBA's plain
-- NOTIFY imagereg_change, or `imagereg cache flush`) makes every worker forget everything. api_token's
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

CREATE OR REPLACE TRIGGER registry_notify_change
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON registry
	FOR EACH STATEMENT
	EXECUTE FUNCTION imagereg_notify_change();

COMMENT ON TRIGGER registry_notify_change ON registry IS
	'Tells the responders (LISTEN imagereg_change) that registry changed, so no worker answers from a stale list.';

CREATE OR REPLACE TRIGGER api_token_notify_change
	AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name, scope, token_hash, revoked_at ON api_token
	FOR EACH STATEMENT
	EXECUTE FUNCTION imagereg_notify_change();

COMMENT ON TRIGGER api_token_notify_change ON api_token IS
	'Tells the responders that a token was created, revoked, renamed, rescoped or deleted, so a revoked token fails on its next request. Not fired by last_used_at stamps.';
