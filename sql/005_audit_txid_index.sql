-- sql/005_audit_txid_index.sql -- fifth migration: find a transaction's own audit rows by index.
--
-- registry_audit_row() merges the changes one transaction makes to one registry into a single row by looking that
-- row up by (txid, registry_id) on every registry write. Through registry_audit_by_registry that lookup walked the
-- registry's whole history, so writes to a busy registry slowed down as its history grew (make bench moving the
-- default between two rows: PUT at one connection fell from 284 to 129 per second as the audit table reached 11 000
-- rows; with this index it held at 220-245 with 25 000 rows).

CREATE INDEX registry_audit_txid_registry ON registry_audit (txid, registry_id);

COMMENT ON INDEX registry_audit_txid_registry IS
	'The audit trigger''s lookup of the row this transaction already wrote for a registry, on every registry write.';
