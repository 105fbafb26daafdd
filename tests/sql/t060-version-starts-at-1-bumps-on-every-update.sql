-- t060: registry.version is 1 on insert and goes up by one on every UPDATE that changes the row, whatever the UPDATE
-- sets it to; an UPDATE that changes nothing keeps it (and updated_at), so ETags clients hold stay valid.
\ir lib/helpers.sql
DO $$
DECLARE
	a text := pg_temp.add('https://a');
	v bigint;
BEGIN
	ASSERT (SELECT version FROM registry WHERE id = a) = 1, 'a new row is not at version 1';
	UPDATE registry SET namespace = 'x' WHERE id = a RETURNING version INTO v;
	ASSERT v = 2, format('after one update version is %s, want 2', v);
	-- An UPDATE that changes no value changes nothing.
	UPDATE registry SET namespace = namespace, updated_at = now() - interval '1 day' WHERE id = a RETURNING version INTO v;
	ASSERT v = 2, format('after a no-op update version is %s, want 2', v);
	ASSERT (SELECT updated_at > now() - interval '1 hour' FROM registry WHERE id = a), 'a no-op update moved updated_at';
	-- Whatever the UPDATE asks for, the trigger decides: no going back, no jumping ahead.
	UPDATE registry SET version = 1 WHERE id = a RETURNING version INTO v;
	ASSERT v = 2, format('UPDATE ... SET version = 1 left %s, want 2', v);
	UPDATE registry SET version = 1000, namespace = 'y' WHERE id = a RETURNING version INTO v;
	ASSERT v = 3, format('UPDATE ... SET version = 1000 left %s, want 3', v);
	-- Each statement in one transaction counts.
	UPDATE registry SET region = 'r1' WHERE id = a;
	UPDATE registry SET region = 'r2' WHERE id = a RETURNING version INTO v;
	ASSERT v = 5, format('two updates in one transaction left %s, want 5', v);
	PERFORM pg_temp.expect_check($q$INSERT INTO registry (address, provider, namespace, version)
		VALUES ('https://b', 'native', 'ns', 0)$q$, 'registry_version_positive');
	-- The version changes with every write: the audit trail does not list it as a changed field.
	ASSERT NOT EXISTS (SELECT 1 FROM registry_audit WHERE 'version' = ANY (changed_fields)),
		'an audit row lists version';
END
$$;

-- In a transaction of its own, an update of the namespace is audited as just that.
UPDATE registry SET namespace = 'alone' WHERE address = 'https://a';
DO $$
BEGIN
	ASSERT (SELECT changed_fields FROM registry_audit ORDER BY id DESC LIMIT 1) = '{namespace}',
		format('audit lists %s', (SELECT changed_fields FROM registry_audit ORDER BY id DESC LIMIT 1));
	ASSERT (SELECT version FROM registry WHERE address = 'https://a') = 6, 'the last update did not bump to 6';
END
$$;
