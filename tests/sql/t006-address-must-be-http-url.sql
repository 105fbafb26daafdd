-- t006: registry_address_is_http_url accepts absolute http(s) URLs with a host (name, IPv4, [IPv6], port) and rejects the rest.
\ir lib/helpers.sql
DO $$
DECLARE
	good text;
	bad text;
BEGIN
	FOREACH good IN ARRAY ARRAY[
		'http://r',
		'https://registry.example.com',
		'https://registry.example.com/',
		'HTTPS://Registry.Example.com:5000/v2/ns?x=1#frag',
		'http://10.0.0.1:5000',
		'http://[::1]:5000',
		'https://[2001:db8::1]/path',
		'https://r.example.com/a@b',
		'https://r.example.com?q',
		'https://xxx.tencentcloudcr.com'
	] LOOP
		PERFORM pg_temp.add(good);
	END LOOP;
	ASSERT (SELECT count(*) FROM registry) = 10, 'not all good addresses were stored';

	FOREACH bad IN ARRAY ARRAY[
		'',
		'registry.example.com',
		'//registry.example.com',
		'ftp://registry.example.com',
		'https:/registry.example.com',
		'https://',
		'https:///path',
		'https://?q',
		'https://#f',
		'https://user@registry.example.com',
		'https://user:secret@registry.example.com/x',
		'https://registry .example.com',
		'https://registry' || E'\t' || '.example.com',
		'https://reg' || chr(1) || 'istry.example.com',
		'httpss://registry.example.com',
		'docker://registry.example.com'
	] LOOP
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (address, provider, namespace) VALUES (%L, 'native', 'ns')$q$, bad),
			'registry_address_is_http_url');
	END LOOP;
END
$$;
