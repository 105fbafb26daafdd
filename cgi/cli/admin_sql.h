/*
 * admin_sql.h - the admin CLI's database layer: every statement the CLI runs
 * (SQL text in admin_sql.c only), with named result columns.
 */
#ifndef IMAGEREG_ADMIN_SQL_H
#define IMAGEREG_ADMIN_SQL_H

#include <libpq-fe.h>

struct seal_key;

enum admin_stmt {
	ADM_BEGIN,
	ADM_COMMIT,
	ADM_ROLLBACK,
	ADM_SET_ACTOR,                  /* $1: who registry_audit records for this transaction */
	ADM_LOCK_REGISTRY_WRITERS,      /* the advisory lock every registry writer takes */
	ADM_TOKEN_CREATE,               /* $1 name, $2 scope, $3 token hash (bytea text) */
	ADM_TOKEN_LIST,
	ADM_TOKEN_REVOKE,               /* $1 name; one row when it exists */
	ADM_REGISTRY_ONE,               /* $1 id */
	ADM_REGISTRY_DEFAULT,
	ADM_REGISTRY_ALL,               /* oldest first, as the API lists them */
	ADM_SEALED_FOR_UPDATE,          /* rows with credentials, locked */
	ADM_RESEAL,                     /* $1 id, $2 access_key_sealed, $3 secret_key_sealed */
	ADM_CACHE_FLUSH,
	ADM_MIGRATE_LOCK,               /* the migrator's own advisory lock, for the session */
	ADM_MIGRATE_UNLOCK,
	ADM_MIGRATE_SEARCH_PATH,        /* "<schema>, pg_temp" for this transaction */
	ADM_MIGRATE_HAS_TABLE,
	ADM_MIGRATE_APPLIED,            /* $1 version */
	ADM_MIGRATE_RECORD,             /* $1 version */
	ADM__MAX
};

/*
 * The result columns of each statement, by name: admin_sql.c lists the names
 * beside the SQL and admin_run checks them against PQfnumber on every result,
 * so a column read here is the column the SQL returns.
 */
enum token_list_col {           /* ADM_TOKEN_LIST */
	TL_NAME, TL_SCOPE, TL_CREATED, TL_LAST_USED, TL_REVOKED, TL__MAX
};
enum registry_row_col {         /* ADM_REGISTRY_ONE, _DEFAULT, _ALL */
	RR_ID, RR_ADDRESS, RR_PROVIDER, RR_ENABLE_TLS, RR_TLS_CERT, RR_ACCESS_KEY_SEALED, RR_SECRET_KEY_SEALED,
	RR_NAMESPACE, RR__MAX
};
enum sealed_col {               /* ADM_SEALED_FOR_UPDATE */
	SEALED_ID, SEALED_ACCESS_KEY, SEALED_SECRET_KEY, SEALED__MAX
};
enum bool_col { BOOL_VALUE, BOOL__MAX };        /* ADM_MIGRATE_HAS_TABLE, ADM_MIGRATE_APPLIED */

/*
 * Runs statement s with its text parameters (NULL = SQL NULL).  Returns the
 * result (caller PQclears), or NULL after printing PostgreSQL's error (or a
 * column mismatch, a bug in admin_sql.c) to stderr.
 */
PGresult *admin_run(PGconn *conn, enum admin_stmt s, const char *const *params);

/* admin_run for statements whose rows do not matter: 0 or -1. */
int admin_do(PGconn *conn, enum admin_stmt s, const char *const *params);

/* The one boolean of a one-row statement: 1, 0, or -1 after a message. */
int admin_bool(PGconn *conn, enum admin_stmt s, const char *const *params);

/*
 * The registry with id, or the default one when id is NULL, as a result of
 * registry_row_col columns; NULL after a message ("no registry ID").
 */
PGresult *admin_registry(PGconn *conn, const char *id);

/*
 * Opens the stored credentials of row i of a registry_row_col result with
 * key: *access and *secret are the plaintexts (caller frees with secret_free),
 * NULL where none is stored.  Returns -1 when one is there but cannot be
 * opened (another key, or altered): both are then wiped, freed and NULL, and
 * the message naming the registry and the key is printed.
 */
int admin_credentials(const struct seal_key *key, const PGresult *res, int i, char **access, char **secret);

#endif
