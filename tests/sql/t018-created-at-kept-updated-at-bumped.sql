-- t018: UPDATE keeps created_at (even when asked to change it) and sets updated_at to the current clock time.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add();
	before registry;
	after registry;
BEGIN
	-- Make both timestamps clearly old, as if the row had been inserted a day ago.
	ALTER TABLE registry DISABLE TRIGGER registry_before_update;
	UPDATE registry SET created_at = created_at - interval '1 day', updated_at = updated_at - interval '1 day' WHERE id = a;
	ALTER TABLE registry ENABLE TRIGGER registry_before_update;
	SELECT * INTO before FROM registry WHERE id = a;

	UPDATE registry SET address = 'https://new.example.com', created_at = '2000-01-01', updated_at = '2000-01-01'
	WHERE id = a RETURNING * INTO after;
	ASSERT after.address = 'https://new.example.com', 'update lost';
	ASSERT after.created_at = before.created_at,
		format('created_at changed from %s to %s', before.created_at, after.created_at);
	ASSERT after.updated_at > before.updated_at AND after.updated_at <= clock_timestamp(),
		format('updated_at %s not bumped from %s', after.updated_at, before.updated_at);
	-- clock_timestamp(), not now(): a second update in the same transaction moves it again.
	UPDATE registry SET namespace = 'other' WHERE id = a RETURNING * INTO before;
	ASSERT before.updated_at > after.updated_at, 'updated_at did not move within the transaction';
END
$$;
