/*
 * admin_sql.c - the admin CLI's statements and how they run.  The CLI runs
 * each statement once or a few times per invocation, so nothing is prepared:
 * PQexecParams with the text below, parameters always apart from it.
 */
#include "admin_sql.h"
#include "crypto.h"

#include <stdio.h>

/* What `imagereg check`, `credentials`, `docker-config` and `tls-cert` read of a registry. */
#define REGISTRY_ROW "SELECT id, address, provider, enable_tls, tls_cert, access_key_sealed, secret_key_sealed," \
	" namespace FROM registry"
#define TIMESTAMP(col) "coalesce(to_char(" col ", 'YYYY-MM-DD HH24:MI:SS'), '-') AS " col

/* Result column names in the order of the enums of admin_sql.h. */
static const char *const token_list_cols[TL__MAX] = { "name", "scope", "created_at", "last_used_at", "revoked_at" };
static const char *const registry_row_cols[RR__MAX] = {
	"id", "address", "provider", "enable_tls", "tls_cert", "access_key_sealed", "secret_key_sealed", "namespace",
};
static const char *const sealed_cols[SEALED__MAX] = { "id", "access_key_sealed", "secret_key_sealed" };
static const char *const bool_cols[BOOL__MAX] = { "value" };

#define COLUMNS(a) a, (int)(sizeof a / sizeof a[0])

static const struct admin_statement {
	int nparams;
	const char *sql;
	const char *const *columns;     /* the result's column names, NULL when the rows do not matter */
	int ncolumns;
} statements[ADM__MAX] = {
	[ADM_BEGIN] = { 0, "BEGIN", NULL, 0 },
	[ADM_COMMIT] = { 0, "COMMIT", NULL, 0 },
	[ADM_ROLLBACK] = { 0, "ROLLBACK", NULL, 0 },
	[ADM_SET_ACTOR] = { 1, "SELECT set_config('imagereg.actor', $1, true)", NULL, 0 },
	/* The lock of sql/functions/20_registry_lock_writers.sql (ASCII "imagereg"). */
	[ADM_LOCK_REGISTRY_WRITERS] = { 0, "SELECT pg_advisory_xact_lock(7596835243155416423)", NULL, 0 },
	[ADM_TOKEN_CREATE] = { 3, "INSERT INTO api_token (name, scope, token_hash) VALUES ($1, $2, $3::bytea)",
		NULL, 0 },
	[ADM_TOKEN_LIST] = { 0, "SELECT name, scope, " TIMESTAMP("created_at") ", " TIMESTAMP("last_used_at") ", "
		TIMESTAMP("revoked_at") " FROM api_token ORDER BY name", COLUMNS(token_list_cols) },
	[ADM_TOKEN_REVOKE] = { 1, "UPDATE api_token SET revoked_at = coalesce(revoked_at, clock_timestamp())"
		" WHERE name = $1 RETURNING name", NULL, 0 },
	[ADM_REGISTRY_ONE] = { 1, REGISTRY_ROW " WHERE id = $1", COLUMNS(registry_row_cols) },
	[ADM_REGISTRY_DEFAULT] = { 0, REGISTRY_ROW " WHERE is_default", COLUMNS(registry_row_cols) },
	[ADM_REGISTRY_ALL] = { 0, REGISTRY_ROW " ORDER BY created_at, id", COLUMNS(registry_row_cols) },
	[ADM_SEALED_FOR_UPDATE] = { 0, "SELECT id, access_key_sealed, secret_key_sealed FROM registry"
		" WHERE access_key_sealed IS NOT NULL OR secret_key_sealed IS NOT NULL FOR UPDATE", COLUMNS(sealed_cols) },
	[ADM_RESEAL] = { 3, "UPDATE registry SET access_key_sealed = $2::bytea, secret_key_sealed = $3::bytea"
		" WHERE id = $1", NULL, 0 },
	/* A payload that names no table: every worker forgets its list and its token verdicts. */
	[ADM_CACHE_FLUSH] = { 0, "SELECT pg_notify('imagereg_change', 'flush')", NULL, 0 },
	/* Session-level: held across the migrations' own transactions; 7223900271 is the migrator's alone. */
	[ADM_MIGRATE_LOCK] = { 0, "SELECT pg_advisory_lock(7223900271)", NULL, 0 },
	[ADM_MIGRATE_UNLOCK] = { 0, "SELECT pg_advisory_unlock(7223900271)", NULL, 0 },
	[ADM_MIGRATE_SEARCH_PATH] = { 0, "SELECT set_config('search_path', quote_ident(current_schema()) || ', pg_temp',"
		" true)", NULL, 0 },
	/* Before the first migration there is no table to look in. */
	[ADM_MIGRATE_HAS_TABLE] = { 0, "SELECT to_regclass('schema_migration') IS NOT NULL AS value",
		COLUMNS(bool_cols) },
	[ADM_MIGRATE_APPLIED] = { 1, "SELECT EXISTS (SELECT 1 FROM schema_migration WHERE version = $1) AS value",
		COLUMNS(bool_cols) },
	[ADM_MIGRATE_RECORD] = { 1, "INSERT INTO schema_migration (version) VALUES ($1)", NULL, 0 },
};

/* Every named column of st is where its enum says: a mismatch is a bug in this file. */
static int columns_match(const PGresult *res, const struct admin_statement *st)
{
	if (PQnfields(res) != st->ncolumns)
		return 0;
	for (int i = 0; i < st->ncolumns; i++)
		if (PQfnumber(res, st->columns[i]) != i)
			return 0;
	return 1;
}

PGresult *admin_run(PGconn *conn, enum admin_stmt s, const char *const *params)
{
	const struct admin_statement *st = &statements[s];
	PGresult *res = PQexecParams(conn, st->sql, st->nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType status = PQresultStatus(res);

	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		fprintf(stderr, "imagereg: %s", PQerrorMessage(conn));
		PQclear(res);
		return NULL;
	}
	if (st->columns != NULL && !columns_match(res, st)) {
		fprintf(stderr, "imagereg: internal error: the columns of \"%s\" are not the ones admin_sql.h names\n",
			st->sql);
		PQclear(res);
		return NULL;
	}
	return res;
}

int admin_do(PGconn *conn, enum admin_stmt s, const char *const *params)
{
	PGresult *res = admin_run(conn, s, params);

	PQclear(res);
	return res ? 0 : -1;
}

int admin_bool(PGconn *conn, enum admin_stmt s, const char *const *params)
{
	PGresult *res = admin_run(conn, s, params);
	int r = res != NULL && PQntuples(res) == 1 ? PQgetvalue(res, 0, BOOL_VALUE)[0] == 't' : -1;

	PQclear(res);
	return r;
}

PGresult *admin_registry(PGconn *conn, const char *id)
{
	const char *p[] = { id };
	PGresult *res = id ? admin_run(conn, ADM_REGISTRY_ONE, p) : admin_run(conn, ADM_REGISTRY_DEFAULT, NULL);

	if (res != NULL && PQntuples(res) == 0) {
		if (id)
			fprintf(stderr, "imagereg: no registry %s\n", id);
		else
			fprintf(stderr, "imagereg: no registries\n");
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Opens sealed column col of row i; NULL when it is NULL, or cannot be opened (*bad set). */
static char *unseal(const struct seal_key *key, const PGresult *res, int i, int col, const char *aad, int *bad)
{
	char *plain;

	if (PQgetisnull(res, i, col))
		return NULL;
	plain = open_from_bytea(key, aad, PQgetvalue(res, i, col));
	if (plain == NULL)
		*bad = 1;
	return plain;
}

int admin_credentials(const struct seal_key *key, const PGresult *res, int i, char **access, char **secret)
{
	int bad = 0;

	*access = unseal(key, res, i, RR_ACCESS_KEY_SEALED, "access_key", &bad);
	*secret = unseal(key, res, i, RR_SECRET_KEY_SEALED, "secret_key", &bad);
	if (!bad)
		return 0;
	fprintf(stderr, "imagereg: registry %s: the stored credentials cannot be opened with key %s"
		" (another key, or altered)\n", PQgetvalue(res, i, RR_ID), key->id);
	/* Half a pair is worse than none: a wrong user name looks like a refusal. */
	secret_free(*access);
	secret_free(*secret);
	*access = *secret = NULL;
	return -1;
}
