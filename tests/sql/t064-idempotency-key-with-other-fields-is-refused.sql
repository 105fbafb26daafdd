-- t064: the same key with different non-secret fields raises 23505 registry_idempotency_key_reused and changes
-- nothing; every non-secret field counts.
\ir lib/helpers.sql
DO $$
DECLARE
	first text;
	variant text;
BEGIN
	SELECT registry_id INTO first FROM imagereg_registry_create('alice', 'https://a.example', 'native', NULL, 'ns',
		false, NULL, NULL, false, NULL, 'k-2');
	FOREACH variant IN ARRAY ARRAY[
		$q$'https://b.example', 'native', NULL, 'ns', false, NULL, NULL, false, NULL$q$,
		$q$'https://a.example', 'harbor', NULL, 'ns', false, NULL, NULL, false, NULL$q$,
		$q$'https://a.example', 'native', 'eu', 'ns', false, NULL, NULL, false, NULL$q$,
		$q$'https://a.example', 'native', NULL, 'other', false, NULL, NULL, false, NULL$q$,
		$q$'https://a.example', 'native', NULL, 'ns', true, NULL, NULL, false, NULL$q$,
		$q$'https://a.example', 'native', NULL, 'ns', false, NULL, NULL, true, 'cert'$q$,
		$q$'https://a.example', 'native', NULL, 'ns', false, NULL, NULL, false, 'cert'$q$
	] LOOP
		PERFORM pg_temp.expect_error(format('SELECT imagereg_registry_create(%L, %s, %L)', 'alice', variant, 'k-2'),
			'23505', 'registry_idempotency_key_reused');
	END LOOP;
	ASSERT (SELECT count(*) FROM registry) = 1, 'a refused request created a registry';
	ASSERT (SELECT registry_id FROM registry_idempotency WHERE actor = 'alice' AND key = 'k-2') = first,
		'a refused request changed the record';
END
$$;
