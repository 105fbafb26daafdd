-- t011: registry_region_required_for_ecr: ecr rows need a region with a non-white-space character; others may leave it empty.
\ir lib/helpers.sql
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['', ' ', E'\t', E'\n '] LOOP
		PERFORM pg_temp.expect_check(
			format($q$INSERT INTO registry (address, provider, region) VALUES ('https://r', 'ecr', %L)$q$, r),
			'registry_region_required_for_ecr');
	END LOOP;
	PERFORM pg_temp.expect_check(
		$q$INSERT INTO registry (address, provider) VALUES ('https://r', 'ecr')$q$,
		'registry_region_required_for_ecr');
	-- Changing the provider to ecr without a region.
	PERFORM pg_temp.expect_check(
		format($q$UPDATE registry SET provider = 'ecr' WHERE id = %L$q$, pg_temp.add()),
		'registry_region_required_for_ecr');

	INSERT INTO registry (address, provider, region) VALUES ('https://r', 'ecr', 'ap-southeast-1');
	INSERT INTO registry (address, provider, namespace, region) VALUES ('https://r', 'native', 'ns', '');
	INSERT INTO registry (address, provider, namespace, region) VALUES ('https://r', 'acr', 'ns', 'cn-hangzhou');
	ASSERT (SELECT count(*) FROM registry) = 4, 'accepted rows missing';
END
$$;
