-- t008: registry_provider_known accepts the eight lower-case Zadig providers and rejects others.
\ir lib/helpers.sql
DO $$
DECLARE
	p text;
BEGIN
	FOREACH p IN ARRAY ARRAY['acr', 'tcr', 'swr', 'ecr', 'dockerhub', 'harbor', 'nexus', 'native'] LOOP
		INSERT INTO registry (address, provider, namespace, region)
		VALUES ('https://' || p || '.example.com', p, 'ns', 'us-east-1');
	END LOOP;
	ASSERT (SELECT count(DISTINCT provider) FROM registry) = 8, 'not all providers stored';

	FOREACH p IN ARRAY ARRAY['', 'ACR', 'Harbor', 'gcr', 'docker', 'native ', 'other'] LOOP
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (address, provider, namespace, region) VALUES ('https://r', %L, 'ns', 'r1')$q$, p),
			'registry_provider_known');
	END LOOP;
END
$$;
