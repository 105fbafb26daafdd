-- sql/functions/69_imagereg_write_begin.sql -- what every write function of the responder does first.
--
-- Names the actor for the audit trigger (transaction-local, so it ends with the statement; honoured only for the
-- responder's own role, see 50_registry_audit_row.sql), and applies the responder's lock_timeout (the session's
-- imagereg.write_lock_timeout) to this write only: its reads keep waiting up to statement_timeout, while a write
-- that meets a DBA's open transaction gives up after lock_timeout with 55P03 and the responder answers 503.
CREATE OR REPLACE FUNCTION imagereg_write_begin(p_actor text) RETURNS void
	LANGUAGE plpgsql
	SET search_path FROM CURRENT
AS $$
BEGIN
	PERFORM set_config('imagereg.actor', p_actor, true);
	PERFORM set_config('lock_timeout', coalesce(nullif(current_setting('imagereg.write_lock_timeout', true), ''),
	                                         current_setting('lock_timeout')), true);
END
$$;

COMMENT ON FUNCTION imagereg_write_begin(text) IS
	'First step of imagereg_registry_create/update/delete: sets imagereg.actor and, from imagereg.write_lock_timeout, lock_timeout, both for the current transaction only.';

REVOKE ALL ON FUNCTION imagereg_write_begin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION imagereg_write_begin(text) TO imagereg_app;
