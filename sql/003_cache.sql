-- sql/003_cache.sql -- third migration: change notifications for the responders' caches.
--
-- Every responder worker keeps the registry list and the tokens it has checked in memory and LISTENs on the
-- channel imagereg_change. These triggers NOTIFY it after every statement that changes what a worker may have
-- cached, whoever runs the statement (the responder, the CLI, a DBA in psql). PostgreSQL delivers a notification
-- only when the transaction commits, once per distinct payload per transaction; the payload is the table name.
-- api_token's last_used_at stamps are not a change a cache cares about, so they notify nobody.

-- The function and its triggers: sql/functions/60_imagereg_notify_change.sql. This migration no longer changes a
-- table; it stays so that the numbering of the databases that applied it holds.
