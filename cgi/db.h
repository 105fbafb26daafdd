/* db.h - the worker's PostgreSQL connection and its prepared statements. */
#ifndef IMAGEREG_DB_H
#define IMAGEREG_DB_H

#include "req.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Every statement the responder runs; SQL text lives in db.c only. */
enum stmt {
	STMT_REGISTRY_LIST,
	STMT_REGISTRY_ROWS,             /* the same columns for the ids of a text[] ($1): what a change touched */
	STMT_REGISTRY_FINGERPRINT,      /* the table's row count and fingerprint (db_fingerprint_term) */
	STMT_REGISTRY_INSERT,
	STMT_REGISTRY_UPDATE,
	STMT_REGISTRY_DELETE,
	STMT_REGISTRY_CHECK_TARGET,     /* what the stored-registry check needs, credentials sealed */
	STMT_TOKEN_CHECK,
	STMT_HEALTH,
	STMT__MAX
};

/*
 * The result columns of each statement, by name: db.c lists the names beside
 * the SQL and checks them against PQfnumber once per connection, so a column
 * read here is the column the SQL returns.
 */
enum registry_col {             /* STMT_REGISTRY_LIST, STMT_REGISTRY_ROWS */
	REG_ID, REG_ADDRESS, REG_PROVIDER, REG_REGION, REG_NAMESPACE, REG_IS_DEFAULT,
	REG_HAS_CREDENTIALS, REG_CREDENTIALS_UPDATED_AT, REG_VERSION,
	REG_CREATED_US,         /* created_at in microseconds since 1970: the list's order is (created_us, id) */
	REG_XMIN,               /* the row version's inserting transaction (xmin): see db_fingerprint_term */
	REG__MAX
};
enum fingerprint_col { FP_ROWS, FP_SUM, FP__MAX };                     /* STMT_REGISTRY_FINGERPRINT */
enum insert_col { INS_REGISTRY_ID, INS_REPLAYED, INS__MAX };           /* STMT_REGISTRY_INSERT */
enum update_col {                                                       /* STMT_REGISTRY_UPDATE */
	UPD_FOUND, UPD_CREDENTIALS_CLEARED, UPD_PRECONDITION_FAILED, UPD_VERSION, UPD__MAX
};
enum delete_col { DEL_FOUND, DEL_PRECONDITION_FAILED, DEL_VERSION, DEL__MAX }; /* STMT_REGISTRY_DELETE */
enum check_target_col {                                                 /* STMT_REGISTRY_CHECK_TARGET */
	CHK_ADDRESS, CHK_PROVIDER, CHK_ENABLE_TLS, CHK_TLS_CERT, CHK_ACCESS_KEY_SEALED, CHK_SECRET_KEY_SEALED,
	CHK_NAMESPACE, CHK__MAX
};
enum token_col { TOK_NAME, TOK_SCOPE, TOK__MAX };                      /* STMT_TOKEN_CHECK */
enum health_col { HEALTH_READ_ONLY, HEALTH__MAX };                      /* STMT_HEALTH */

struct db;

struct config;

/*
 * Makes a handle; does not connect yet.  Free with db_free.  cfg (borrowed,
 * must outlive the handle) gives dsn, connect_timeout, statement_timeout and
 * lock_timeout.
 */
struct db *db_new(const struct config *cfg);
void db_free(struct db *db);

/*
 * Connects if needed (also after PostgreSQL went away), prepares the
 * statements once per connection.  Returns 0 when ready, -1 when the database
 * is unreachable: the caller answers 503 and tries again next request.
 */
int db_ready(struct db *db);

/*
 * The worker's idle wait watches the connection's socket beside the listening
 * one, so that the request need not poll it again: db_idle_socket is the fd
 * to watch (-1 while there is no connection) and, in connection, which
 * connection it is (a new one may get the old one's fd number, which a
 * registration with epoll does not survive); db_idle_read tells what the
 * wait saw.  readable: what waits is read now (notifications, or the EOF of
 * a server that went away); not readable: the next db_ready skips its own
 * non-blocking poll, one system call less per request.  A connection
 * found broken is closed; the next db_ready connects again.
 */
int db_idle_socket(const struct db *db, unsigned long *connection);
void db_idle_read(struct db *db, int readable);

/*
 * coherence = cluster: one round trip on the LISTENing connection (instead
 * of db_ready's non-blocking read), after which db_changes knows of every
 * change committed before this call, on any host.  Reconnects when the
 * connection is gone (db_changes then says everything changed).  Returns 0,
 * or -1 when the database is unreachable.
 */
int db_confirm(struct db *db);

/* Registry ids named by notifications, waiting to be read again; bounded. */
#define DB_IDS_MAX 1024
struct db_ids {
	size_t n;
	char id[DB_IDS_MAX][REGISTRY_ID_LEN + 1];
};

/*
 * What changed in the cached tables since the last call: the notifications
 * that have arrived on the connection (db_ready reads the socket without
 * blocking), and everything when the connection is new or was lost.
 * DB_CHANGED_REGISTRY: the whole registry table (read it again);
 * DB_CHANGED_ROWS: only the rows whose ids were appended to *ids (an id
 * already there is not added twice; when ids is full the answer becomes
 * DB_CHANGED_REGISTRY).
 */
enum { DB_CHANGED_REGISTRY = 1, DB_CHANGED_TOKENS = 2, DB_CHANGED_ALL = 3, DB_CHANGED_ROWS = 4 };
unsigned db_changes(struct db *db, struct db_ids *ids);

/*
 * Right after a registry write of ours: 1 when PostgreSQL sent this session
 * its own notification naming the rows the write changed (it does so before
 * the write's result, see README "Reads from memory"), so the other workers
 * will get it too; 0 when no such notification came (triggers off, or too
 * many rows), and they must read the whole table.  What it takes stays
 * queued for db_changes.
 */
int db_wrote_rows_notified(struct db *db, struct db_ids *ids);

/*
 * A row's share of STMT_REGISTRY_FINGERPRINT's sum, from its id and xmin,
 * computed as that statement computes it; add the shares of the rows held
 * modulo DB_FINGERPRINT_MOD.  Every write of a row gives it a new xmin,
 * whether or not a trigger fired, so when the table's count and sum equal
 * those of the rows a worker holds, it holds the table as it is (short of a
 * collision modulo a 61-bit prime).
 */
#define DB_FINGERPRINT_MOD 2305843009213693951ULL      /* 2^61 - 1 */
uint64_t db_fingerprint_term(const char *id, uint32_t xmin);

/*
 * Runs a prepared statement with text parameters (NULL = SQL NULL).  Retries
 * deadlocks and serialization failures, and read-only statements once more on
 * a fresh connection.  Returns the result (caller PQclears) or NULL when the
 * database is unreachable.
 */
PGresult *db_exec(struct db *db, enum stmt s, const char *const *params);

/*
 * Maps a failed result to an HTTP status and a client-safe description,
 * by SQLSTATE and constraint name, never by message text.  503 means "try
 * again": the database is away, or (55P03) another transaction holds the
 * registry write lock past lock_timeout.
 */
int db_error_status(const PGresult *res, char *msg, size_t msgsize);

#endif
