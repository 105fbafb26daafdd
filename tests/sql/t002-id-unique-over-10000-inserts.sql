-- t002: 10000 inserted rows get 10000 distinct well-formed ids (and 10000 direct calls do too).
\ir lib/helpers.sql
INSERT INTO registry (address, provider, namespace)
SELECT 'https://r' || i || '.example.com', 'native', 'ns' FROM generate_series(1, 10000) AS i;

DO $$
DECLARE
	n bigint;
	distinct_ids bigint;
	malformed bigint;
BEGIN
	SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id !~ '^[0-9a-f]{24}$')
	INTO n, distinct_ids, malformed FROM registry;
	ASSERT n = 10000, format('%s rows', n);
	ASSERT distinct_ids = 10000, format('%s distinct ids in 10000 rows', distinct_ids);
	ASSERT malformed = 0, format('%s malformed ids', malformed);

	SELECT count(DISTINCT imagereg_object_id()) INTO distinct_ids FROM generate_series(1, 10000);
	ASSERT distinct_ids = 10000, format('%s distinct ids from 10000 calls', distinct_ids);
END
$$;
