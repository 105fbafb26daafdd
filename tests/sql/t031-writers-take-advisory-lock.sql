-- t031: every INSERT, UPDATE and DELETE statement (even one touching no row) takes advisory lock 7596835243155416423.
\ir lib/helpers.sql
CREATE FUNCTION pg_temp.holds_writer_lock() RETURNS boolean LANGUAGE sql AS $$
	SELECT EXISTS (
		SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND mode = 'ExclusiveLock'
		  AND objsubid = 1   -- one bigint key, split into classid (high half) and objid (low half)
		  AND ((classid::bigint << 32) | objid::bigint) = 7596835243155416423)
$$;

-- A row for the UPDATE and DELETE statements to touch, inserted in its own transaction (so its lock is gone).
SELECT pg_temp.add() IS NOT NULL AS added \gset

DO $$
DECLARE
	stmt text;
BEGIN
	ASSERT 7596835243155416423 = x'696d616765726567'::bigint, 'the key is not ASCII "imagereg"';
	FOREACH stmt IN ARRAY ARRAY[
		$q$INSERT INTO registry (address, provider, namespace) VALUES ('https://r', 'native', 'ns')$q$,
		$q$INSERT INTO registry (address, provider, namespace) SELECT 'https://r', 'native', 'ns' WHERE false$q$,
		$q$UPDATE registry SET namespace = 'x'$q$,
		$q$UPDATE registry SET namespace = 'x' WHERE false$q$,
		$q$DELETE FROM registry WHERE false$q$,
		$q$DELETE FROM registry WHERE address = 'https://r'$q$
	] LOOP
		-- Each statement in its own subtransaction, rolled back: releases the lock again (xact locks of an aborted
		-- subtransaction are released), so the check sees only what this statement took.
		BEGIN
			ASSERT NOT pg_temp.holds_writer_lock(), 'lock held before: ' || stmt;
			EXECUTE stmt;
			ASSERT pg_temp.holds_writer_lock(), 'lock not taken by: ' || stmt;
			RAISE EXCEPTION USING ERRCODE = 'T0001';
		EXCEPTION WHEN SQLSTATE 'T0001' THEN
			NULL;
		END;
	END LOOP;
	ASSERT NOT pg_temp.holds_writer_lock(), 'lock still held';
END
$$;

-- Reading does not take it.
BEGIN;
SELECT count(*) FROM registry \gset
DO $$ BEGIN ASSERT NOT pg_temp.holds_writer_lock(), 'SELECT took the writer lock'; END $$;
COMMIT;
