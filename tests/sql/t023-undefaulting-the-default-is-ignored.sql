-- t023: setting is_default = false on the default is ignored (single row, all rows, with other changes).
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
	c text := pg_temp.add('https://c');
BEGIN
	-- The default must not be the oldest row: if un-defaulting went through, the oldest would be promoted and
	-- could hide the mistake.
	UPDATE registry SET is_default = true WHERE id = b;
	ASSERT pg_temp.the_default() = b;
	UPDATE registry SET is_default = false WHERE id = b;
	ASSERT pg_temp.the_default() = b, format('default is %s after un-defaulting b %s', pg_temp.defaults(), b);
	UPDATE registry SET is_default = false;
	ASSERT pg_temp.the_default() = b, 'default was cleared by an all-rows update';
	UPDATE registry SET is_default = false, namespace = 'changed' WHERE id = b;
	ASSERT pg_temp.the_default() = b, 'default was cleared together with another change';
	ASSERT (SELECT namespace FROM registry WHERE id = b) = 'changed', 'other change lost';
	-- Swapping every flag in one statement asks for two defaults (a and c): refused, the default stays.
	PERFORM pg_temp.expect_error('UPDATE registry SET is_default = NOT is_default', '23505', 'registry_one_default');
	ASSERT pg_temp.the_default() = b, 'a refused swap moved the default';
END
$$;
