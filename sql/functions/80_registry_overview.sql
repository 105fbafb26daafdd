-- sql/functions/80_registry_overview.sql -- the registries for humans: SELECT * works and shows no secret.
--
-- The view reads registry with its owner's rights, so imagereg_readonly (which may not read the sealed columns)
-- can SELECT * from it; it shows whether credentials are stored and under which key, never the bytes.
CREATE OR REPLACE VIEW registry_overview AS
	SELECT r.id, r.address, r.provider, r.namespace, r.region, r.is_default,
	       CASE WHEN r.is_default THEN '*' ELSE '' END AS default_marker,
	       r.secret_key_sealed IS NOT NULL OR r.access_key_sealed IS NOT NULL AS has_credentials,
	       imagereg_sealed_key_id(coalesce(r.secret_key_sealed, r.access_key_sealed)) AS credentials_key_id,
	       r.credentials_updated_at, r.enable_tls, r.tls_cert IS NOT NULL AS has_tls_cert,
	       r.version, r.created_at, r.updated_at
	FROM registry r
	ORDER BY r.created_at, r.id;

COMMENT ON VIEW registry_overview IS
	'Every registry without its secrets, oldest first: what a DBA or report wants from SELECT * (imagereg_readonly may read it; registry''s sealed columns it may not).';
COMMENT ON COLUMN registry_overview.id IS 'registry.id.';
COMMENT ON COLUMN registry_overview.address IS 'registry.address.';
COMMENT ON COLUMN registry_overview.provider IS 'registry.provider.';
COMMENT ON COLUMN registry_overview.namespace IS 'registry.namespace.';
COMMENT ON COLUMN registry_overview.region IS 'registry.region.';
COMMENT ON COLUMN registry_overview.is_default IS 'registry.is_default.';
COMMENT ON COLUMN registry_overview.default_marker IS 'A * on the default registry, empty otherwise: the marker to look for in a psql listing.';
COMMENT ON COLUMN registry_overview.has_credentials IS 'True when an access key or secret key is stored (sealed).';
COMMENT ON COLUMN registry_overview.credentials_key_id IS 'Key id (imagereg_sealed_key_id) of the key that sealed the stored credentials; NULL when none.';
COMMENT ON COLUMN registry_overview.credentials_updated_at IS 'registry.credentials_updated_at.';
COMMENT ON COLUMN registry_overview.enable_tls IS 'registry.enable_tls.';
COMMENT ON COLUMN registry_overview.has_tls_cert IS 'True when a tls_cert is stored (registry.tls_cert has the PEM).';
COMMENT ON COLUMN registry_overview.version IS 'registry.version, the API''s ETag.';
COMMENT ON COLUMN registry_overview.created_at IS 'registry.created_at.';
COMMENT ON COLUMN registry_overview.updated_at IS 'registry.updated_at.';

REVOKE ALL ON registry_overview FROM PUBLIC;
GRANT SELECT ON registry_overview TO imagereg_readonly, imagereg_app;
