-- t068: the audit trigger finds this transaction's row for a registry by index, not by scanning the history.
\ir lib/helpers.sql
DO $$
DECLARE
	def text := pg_get_indexdef('registry_audit_txid_registry'::regclass);
	plan text := '';
	line text;
BEGIN
	ASSERT def LIKE '% ON %registry_audit USING btree (txid, registry_id)', format('unexpected definition: %s', def);
	-- A long history of one busy registry (a default moved back and forth): registry_audit_by_registry alone
	-- would walk all of it on every write to that registry.
	INSERT INTO registry_audit (txid, actor, login, operation, registry_id, changed_fields)
		SELECT g, 't068', 't068', 'update', '000000000000000000000001', '{is_default}' FROM generate_series(1, 20000) g;
	ANALYZE registry_audit;
	FOR line IN EXECUTE 'EXPLAIN SELECT id FROM registry_audit a WHERE a.txid = txid_current()'
			    ' AND a.registry_id = ''000000000000000000000001'' AND a.operation <> ''delete''' LOOP
		plan := plan || line || E'\n';
	END LOOP;
	ASSERT plan LIKE '%registry_audit_txid_registry%', format('plan does not use the index: %s', plan);
	DELETE FROM registry_audit WHERE actor = 't068';
END
$$;
