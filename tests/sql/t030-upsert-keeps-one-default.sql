-- t030: INSERT ... ON CONFLICT (id) DO UPDATE follows the same rules, also when the conflicting row is the default.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	b text := pg_temp.add('https://b');
BEGIN
	-- Upsert of the default asking to stay default.
	INSERT INTO registry (id, address, provider, namespace, is_default) VALUES (a, 'https://a2', 'native', 'ns', true)
	ON CONFLICT (id) DO UPDATE SET address = excluded.address, is_default = excluded.is_default;
	ASSERT pg_temp.the_default() = a, format('default is %s, want a %s', pg_temp.defaults(), a);
	ASSERT (SELECT address FROM registry WHERE id = a) = 'https://a2', 'upsert lost its update';

	-- Upsert of another row asking to become default.
	INSERT INTO registry (id, address, provider, namespace, is_default) VALUES (b, 'https://b2', 'native', 'ns', true)
	ON CONFLICT (id) DO UPDATE SET address = excluded.address, is_default = excluded.is_default;
	ASSERT pg_temp.the_default() = b, format('default is %s, want b %s', pg_temp.defaults(), b);

	-- Upsert of the default asking to stop being default: ignored.
	INSERT INTO registry (id, address, provider, namespace, is_default) VALUES (b, 'https://b3', 'native', 'ns', false)
	ON CONFLICT (id) DO UPDATE SET address = excluded.address, is_default = excluded.is_default;
	ASSERT pg_temp.the_default() = b, format('default is %s, want b %s', pg_temp.defaults(), b);

	-- Upsert without conflict inserts as usual.
	INSERT INTO registry (address, provider, namespace, is_default) VALUES ('https://c', 'native', 'ns', true)
	ON CONFLICT (id) DO NOTHING;
	ASSERT (SELECT address FROM registry WHERE id = pg_temp.the_default()) = 'https://c';
END
$$;
