-- t066: the responder's role imagereg_app can run the new write functions (keys, If-Match) and nothing more on the
-- record table than they need; imagereg_readonly sees versions and records.
\ir lib/helpers.sql
SET ROLE imagereg_app;
DO $$
DECLARE
	rid text;
	failed boolean;
BEGIN
	SELECT registry_id INTO rid FROM imagereg_registry_create('app', 'https://a.example', 'native', NULL, 'ns',
		false, NULL, NULL, false, NULL, 'k-app');
	ASSERT (SELECT replayed FROM imagereg_registry_create('app', 'https://a.example', 'native', NULL, 'ns',
		false, NULL, NULL, false, NULL, 'k-app')), 'replay failed as imagereg_app';
	SELECT u.precondition_failed INTO failed FROM imagereg_registry_update('app', rid, 'https://a.example', 'native',
		NULL, 'ns2', false, NULL, NULL, NULL, NULL, '{1}') u;
	ASSERT NOT failed, 'If-Match update failed as imagereg_app';
	SELECT d.precondition_failed INTO failed FROM imagereg_registry_delete('app', rid, '{2}') d;
	ASSERT NOT failed, 'If-Match delete failed as imagereg_app';
	PERFORM pg_temp.expect_error('TRUNCATE registry_idempotency', '42501', NULL);
END
$$;
RESET ROLE;
SET ROLE imagereg_readonly;
DO $$
BEGIN
	ASSERT (SELECT count(*) FROM registry_idempotency) = 1, 'imagereg_readonly does not see the record';
	ASSERT (SELECT count(version) FROM registry) = 0, 'the deleted registry is still there';
END
$$;
RESET ROLE;
