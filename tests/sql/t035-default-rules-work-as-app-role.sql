-- t035: the default rules and the id generator work for the least-privileged writer, role imagereg_app (sql/002).
\ir lib/helpers.sql
SET ROLE imagereg_app;
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text := pg_temp.add('https://c');
BEGIN
	ASSERT current_user = 'imagereg_app', format('running as %s', current_user);
	ASSERT pg_temp.the_default() = a;
	UPDATE registry SET is_default = true WHERE id = c;
	ASSERT pg_temp.the_default() = c, 'update as imagereg_app did not move the default';
	PERFORM pg_temp.expect_error('UPDATE registry SET is_default = true', '23505', 'registry_one_default');
	PERFORM pg_temp.the_default();
	DELETE FROM registry WHERE id = pg_temp.the_default();
	PERFORM pg_temp.the_default();
	PERFORM pg_temp.expect_error($q$UPDATE registry SET id = '0123456789abcdef01234567'$q$, '23514', 'registry_id_immutable');
END
$$;
RESET ROLE;
