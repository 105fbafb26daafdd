-- t013: registry_access_key_sealed_envelope allows NULL and version-1 envelopes of 37..1061 bytes; refuses other versions and sizes.
\ir lib/helpers.sql
DO $$
DECLARE
	env bytea;
BEGIN
	INSERT INTO registry (address, provider, namespace, access_key_sealed) VALUES ('https://r', 'native', 'ns', NULL);
	-- Version 1, 8-byte key id, 12-byte nonce, ciphertext (0 or 1024 bytes), 16-byte tag.
	INSERT INTO registry (address, provider, namespace, access_key_sealed)
	VALUES ('https://r', 'native', 'ns', '\x01'::bytea || decode(repeat('00', 36), 'hex')),
	       ('https://r', 'native', 'ns', '\x01'::bytea || decode(repeat('ab', 36 + 1024), 'hex'));
	FOREACH env IN ARRAY ARRAY[
		'\x01'::bytea || decode(repeat('00', 35), 'hex'),              -- 36 bytes: shorter than an empty seal
		'\x01'::bytea || decode(repeat('ab', 36 + 1025), 'hex'),       -- plain text over 1024 bytes
		'\x02'::bytea || decode(repeat('00', 36), 'hex'),              -- unknown version
		convert_to('plain-text-access-key-that-is-long-enough', 'UTF8')  -- not sealed at all
	] LOOP
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (address, provider, namespace, access_key_sealed) VALUES ('https://r', 'native', 'ns', %L::bytea)$q$, env),
			'registry_access_key_sealed_envelope');
	END LOOP;
	-- An empty value is refused too. (With 002 as it is, get_byte() fails first with 2202E instead of the check's
	-- 23514, so only the refusal is asserted here.)
	BEGIN
		INSERT INTO registry (address, provider, namespace, access_key_sealed) VALUES ('https://r', 'native', 'ns', '\x'::bytea);
		RAISE EXCEPTION 'empty access_key_sealed was accepted' USING ERRCODE = 'T0002';
	EXCEPTION WHEN SQLSTATE 'T0002' THEN
		RAISE;
	WHEN OTHERS THEN
		NULL;
	END;
END
$$;
