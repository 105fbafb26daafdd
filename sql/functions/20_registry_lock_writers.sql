-- sql/functions/20_registry_lock_writers.sql -- one registry writer at a time.
--
-- A transaction-level advisory lock, taken before the statement touches any row, orders all registry writers: a
-- trigger that waited for it sees the other writer's committed rows in its next query (READ COMMITTED takes a fresh
-- snapshot per statement), so two concurrent "make X default" both succeed, and "delete the default" cannot deadlock
-- with "delete the row that would be promoted" (see FIELD-NOTES). Readers do not take it. A transaction that locks
-- registry rows with SELECT ... FOR UPDATE before its first write can still deadlock with a writer: write first, or
-- take the lock yourself. The responder waits for it at most lock_timeout, then answers 503 (keep psql
-- transactions that write to registry short).

CREATE OR REPLACE FUNCTION registry_lock_writers() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(7596835243155416423);  -- 0x696d616765726567, ASCII "imagereg"
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION registry_lock_writers() IS
	'Trigger function of registry_serialize_writers: takes the transaction-level advisory lock 7596835243155416423 (0x696d616765726567, ASCII "imagereg"), held until commit or rollback. Seen in pg_locks as locktype advisory, classid 1768776039, objid 1701995879, objsubid 1.';

CREATE OR REPLACE TRIGGER registry_serialize_writers
	BEFORE INSERT OR UPDATE OR DELETE ON registry
	FOR EACH STATEMENT
	EXECUTE FUNCTION registry_lock_writers();

COMMENT ON TRIGGER registry_serialize_writers ON registry IS
	'Before every INSERT, UPDATE or DELETE statement (also COPY and statements touching no row), waits for the registry writer lock so that registry writers run one after the other.';

REVOKE ALL ON FUNCTION registry_lock_writers() FROM PUBLIC;
