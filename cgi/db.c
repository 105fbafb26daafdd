/* db.c - SQL statements, connection upkeep and SQLSTATE mapping. */
#include "db.h"
#include "config.h"
#include "log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The six Zadig fields, then has_credentials, credentials_updated_at (ISO 8601) and the version (the ETag). */
#define REGISTRY_COLUMNS "id, address, provider, region, namespace, is_default," \
	" secret_key_sealed IS NOT NULL AS has_credentials," \
	" to_json(credentials_updated_at) #>> '{}' AS credentials_updated_at, version," \
	" (extract(epoch FROM created_at) * 1000000)::bigint AS created_us, xmin::text::bigint AS row_xmin"

/* Result column names in the order of the enums of db.h. */
static const char *const registry_cols[REG__MAX] = {
	"id", "address", "provider", "region", "namespace", "is_default", "has_credentials",
	"credentials_updated_at", "version", "created_us", "row_xmin",
};
static const char *const fingerprint_cols[FP__MAX] = { "rows", "fingerprint" };
static const char *const insert_cols[INS__MAX] = { "registry_id", "replayed" };
static const char *const update_cols[UPD__MAX] = { "found", "credentials_cleared", "precondition_failed", "version" };
static const char *const delete_cols[DEL__MAX] = { "found", "precondition_failed", "version" };
static const char *const check_target_cols[CHK__MAX] = {
	"address", "provider", "enable_tls", "tls_cert", "access_key_sealed", "secret_key_sealed", "namespace",
};
static const char *const token_cols[TOK__MAX] = { "name", "scope" };
static const char *const health_cols[HEALTH__MAX] = { "read_only" };

#define COLUMNS(a) a, (int)(sizeof a / sizeof a[0])

/* Writes go through the SQL functions of sql/functions/7*.sql: one round trip each. */
static const struct statement {
	const char *name;
	int nparams;
	int read_only;          /* safe to run again after a lost connection */
	const char *sql;
	const char *const *columns;     /* the result's column names, NULL for none checked */
	int ncolumns;
} statements[STMT__MAX] = {
	[STMT_REGISTRY_LIST] = { "registry_list", 0, 1,
		"SELECT " REGISTRY_COLUMNS " FROM registry ORDER BY created_at, id", COLUMNS(registry_cols) },
	[STMT_REGISTRY_ROWS] = { "registry_rows", 1, 1,
		"SELECT " REGISTRY_COLUMNS " FROM registry WHERE id = ANY($1::text[])", COLUMNS(registry_cols) },
	/*
	 * At cache_max_age, instead of the list: db_fingerprint_term of every
	 * row, summed.  The id's last 7 hex digits (28 bits, its counter and
	 * some randomness) times xmin + 1 stays under 2^60: bigint arithmetic,
	 * the sum exact (numeric) before the modulus.
	 */
	[STMT_REGISTRY_FINGERPRINT] = { "registry_fingerprint", 0, 1,
		"SELECT count(*) AS rows, (coalesce(sum((xmin::text::bigint + 1) * (('x' || right(id, 7))::bit(28)::int | 1)), 0)"
		" % 2305843009213693951)::bigint AS fingerprint FROM registry", COLUMNS(fingerprint_cols) },
	[STMT_REGISTRY_INSERT] = { "registry_insert", 11, 0,
		"SELECT registry_id, replayed FROM imagereg_registry_create($1, $2, $3, $4, $5, $6::boolean,"
		" $7::bytea, $8::bytea, $9::boolean, $10, $11)", COLUMNS(insert_cols) },
	[STMT_REGISTRY_UPDATE] = { "registry_update", 12, 0,
		"SELECT found, credentials_cleared, precondition_failed, version FROM imagereg_registry_update($1, $2,"
		" $3, $4, $5, $6, $7::boolean, $8::bytea, $9::bytea, $10::boolean, $11, $12::bigint[])",
		COLUMNS(update_cols) },
	[STMT_REGISTRY_DELETE] = { "registry_delete", 3, 0,
		"SELECT found, precondition_failed, version FROM imagereg_registry_delete($1, $2, $3::bigint[])",
		COLUMNS(delete_cols) },
	/* Stamps last_used_at at most once a minute: repeating it is harmless. */
	[STMT_TOKEN_CHECK] = { "token_check", 1, 1,
		"SELECT name, scope FROM imagereg_token_check($1::bytea)", COLUMNS(token_cols) },
	/*
	 * A standby (in recovery) or a read-only session answers reads but no
	 * write: after a failover a node that came back must not look healthy.
	 */
	[STMT_HEALTH] = { "health", 0, 1,
		"SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS read_only",
		COLUMNS(health_cols) },
	[STMT_REGISTRY_CHECK_TARGET] = { "registry_check_target", 1, 1,
		"SELECT address, provider, enable_tls, tls_cert, access_key_sealed, secret_key_sealed, namespace"
		" FROM registry WHERE id = $1", COLUMNS(check_target_cols) },
};

/* Client messages for the named constraints of sql/. */
static const struct {
	const char *constraint;
	const char *message;
} constraint_messages[] = {
#include "constraints.inc"
};

struct db {
	PGconn *conn;
	const struct config *cfg;       /* borrowed: the worker's settings */
	int was_down;           /* log the up/down transitions once, not per request */
	unsigned changes;       /* DB_CHANGED_* seen since db_changes last ran */
	int idle_read;          /* the caller found the socket empty since the last command: skip the poll */
	unsigned long connects; /* connections made: a new one may reuse the old one's fd number */
};

/* The channel sql/003's triggers notify; the payload names the table. */
#define CHANGE_CHANNEL "imagereg_change"


struct db *db_new(const struct config *cfg)
{
	struct db *db = calloc(1, sizeof *db);

	if (db != NULL)
		db->cfg = cfg;
	return db;
}

static void db_drop(struct db *db)
{
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_drop(db);
	free(db);
}

static void mark_down(struct db *db, const char *why)
{
	if (!db->was_down)
		log_error("database unavailable: %s", why);
	db->was_down = 1;
	/* Notifications sent while we were away are lost: assume everything changed. */
	db->changes = DB_CHANGED_ALL;
	db_drop(db);
}

/*
 * Server notices (a shutdown's "terminating connection", warnings) go to our
 * log with a level, not raw to stderr as libpq's default would print them.
 */
static void log_notice(void *arg, const char *message)
{
	(void)arg;
	log_warn("postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

/*
 * Every named column of st is where its enum says: a mismatch is a bug in
 * this file, found on the first connection rather than as a wrong field.
 */
static int check_columns(PGconn *conn, const struct statement *st)
{
	PGresult *desc = PQdescribePrepared(conn, st->name);
	int ok = PQresultStatus(desc) == PGRES_COMMAND_OK && PQnfields(desc) == st->ncolumns;

	for (int c = 0; ok && c < st->ncolumns; c++)
		if (PQfnumber(desc, st->columns[c]) != c) {
			log_error("bug: statement %s: column %s is not at %d", st->name, st->columns[c], c);
			ok = 0;
		}
	if (PQresultStatus(desc) == PGRES_COMMAND_OK && PQnfields(desc) != st->ncolumns)
		log_error("bug: statement %s returns %d columns, db.c names %d", st->name, PQnfields(desc),
			  st->ncolumns);
	PQclear(desc);
	return ok ? 0 : -1;
}

/* Opens a connection, sets session limits and prepares every statement. */
static int db_connect(struct db *db)
{
	char timeout[16], stmt_timeout[16], lock_timeout[16];
	const char *keys[4] = { "connect_timeout", "application_name", NULL, NULL };
	const char *vals[4] = { timeout, "imagereg", NULL, NULL };
	PGresult *res;

	snprintf(timeout, sizeof timeout, "%d", db->cfg->connect_timeout_s);
	/* The dsn comes last so that what it says overrides our defaults. */
	if (db->cfg->dsn != NULL && db->cfg->dsn[0] != '\0') {
		keys[2] = "dbname";
		vals[2] = db->cfg->dsn;
	}
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		char why[256];

		snprintf(why, sizeof why, "%s",
			 db->conn ? PQerrorMessage(db->conn) : "out of memory");
		why[strcspn(why, "\n")] = '\0';
		mark_down(db, why);
		return -1;
	}
	PQsetNoticeProcessor(db->conn, log_notice, NULL);
	snprintf(stmt_timeout, sizeof stmt_timeout, "%d", db->cfg->statement_timeout_ms);
	snprintf(lock_timeout, sizeof lock_timeout, "%d", db->cfg->lock_timeout_ms > 0 ? db->cfg->lock_timeout_ms : 1000);
	const char *p[2] = { stmt_timeout, lock_timeout };
	/* The write functions apply imagereg.write_lock_timeout to themselves only (sql/functions/7*). */
	res = PQexecParams(db->conn, "SELECT set_config('statement_timeout', $1, false),"
			   " set_config('imagereg.write_lock_timeout', $2, false), set_config('TimeZone', 'UTC', false)",
			   2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto fail;
	PQclear(res);
	for (int i = 0; i < STMT__MAX; i++) {
		res = PQprepare(db->conn, statements[i].name, statements[i].sql,
				statements[i].nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			goto fail;
		PQclear(res);
		if (statements[i].columns != NULL && check_columns(db->conn, &statements[i]) < 0) {
			res = NULL;
			goto fail;
		}
	}
	/*
	 * Fixed session setup, not a query with parameters: LISTEN cannot be
	 * prepared.  Whatever a cache held came from before this session.
	 */
	res = PQexec(db->conn, "LISTEN " CHANGE_CHANNEL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail;
	PQclear(res);
	db->changes = DB_CHANGED_ALL;
	db->connects++;
	if (db->was_down)
		log_info("database connection established");
	db->was_down = 0;
	return 0;
fail: {
	char why[256];

	snprintf(why, sizeof why, "preparing the session failed (schema not migrated?): %s",
		 PQerrorMessage(db->conn));
	why[strcspn(why, "\n")] = '\0';
	PQclear(res);
	mark_down(db, why);
	return -1;
}
}

/*
 * Reads whatever waits on an idle connection without blocking.  A server that
 * restarted left an error message and then EOF there: the first read takes
 * the message, the next one sees EOF and marks the connection bad.  Returns 0
 * while the connection is still good.
 */
static int drain_idle(PGconn *conn)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };

	for (int i = 0; i < 16 && poll(&pfd, 1, 0) > 0; i++)
		if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK)
			return -1;
	return PQstatus(conn) == CONNECTION_OK ? 0 : -1;
}

/*
 * Appends the ids of a "registry:<id>,<id>..." payload to ids; returns
 * DB_CHANGED_ROWS, or DB_CHANGED_REGISTRY when one is malformed or ids is full.
 */
static unsigned changed_rows(const char *list, struct db_ids *ids)
{
	while (*list != '\0') {
		size_t len = strcspn(list, ",");
		size_t k;

		if (len != REGISTRY_ID_LEN)
			return DB_CHANGED_REGISTRY;
		for (k = 0; k < ids->n && memcmp(ids->id[k], list, REGISTRY_ID_LEN) != 0; k++)
			;
		if (k == ids->n) {
			if (ids->n == DB_IDS_MAX)
				return DB_CHANGED_REGISTRY;
			memcpy(ids->id[ids->n], list, REGISTRY_ID_LEN);
			ids->id[ids->n++][REGISTRY_ID_LEN] = '\0';
		}
		list += len;
		list += *list == ',';
	}
	return DB_CHANGED_ROWS;
}

/*
 * Takes the notifications libpq has queued into db->changes and ids.  Returns
 * 1 when one of them named registry rows and came from this session's own
 * backend (a write of ours whose notification PostgreSQL sent us before the
 * write's result), else 0.
 */
static int take_notifications(struct db *db, struct db_ids *ids)
{
	int own_rows = 0;
	PGnotify *n;

	while (db->conn != NULL && (n = PQnotifies(db->conn)) != NULL) {
		if (strncmp(n->extra, "registry:", 9) == 0) {
			unsigned got = changed_rows(n->extra + 9, ids);

			db->changes |= got;
			own_rows |= got == DB_CHANGED_ROWS && n->be_pid == PQbackendPID(db->conn);
		} else if (strcmp(n->extra, "registry") == 0) {
			db->changes |= DB_CHANGED_REGISTRY;
		} else if (strcmp(n->extra, "api_token") == 0) {
			db->changes |= DB_CHANGED_TOKENS;
		} else {
			db->changes |= DB_CHANGED_ALL;
		}
		PQfreemem(n);
	}
	return own_rows;
}

unsigned db_changes(struct db *db, struct db_ids *ids)
{
	unsigned changes;

	take_notifications(db, ids);
	changes = db->changes;
	db->changes = 0;
	return changes;
}

int db_wrote_rows_notified(struct db *db, struct db_ids *ids)
{
	return take_notifications(db, ids) && !(db->changes & DB_CHANGED_REGISTRY);
}

int db_idle_socket(const struct db *db, unsigned long *connection)
{
	*connection = db->connects;
	return db->conn != NULL ? PQsocket(db->conn) : -1;
}

void db_idle_read(struct db *db, int readable)
{
	db->idle_read = 0;
	if (db->conn == NULL)
		return;
	if (readable && drain_idle(db->conn) < 0) {
		mark_down(db, "connection lost");   /* the next db_ready connects again */
		return;
	}
	db->idle_read = !readable;
}

int db_ready(struct db *db)
{
	/* Find a dead connection before a write goes into it, not after. */
	if (db->conn != NULL && !db->idle_read && drain_idle(db->conn) < 0)
		mark_down(db, "connection lost");
	db->idle_read = 0;
	if (db->conn == NULL)
		return db_connect(db);
	return 0;
}

int db_confirm(struct db *db)
{
	PGresult *res;
	int ok;

	if (db->conn == NULL)
		return db_connect(db);
	/*
	 * An empty query: the smallest message PostgreSQL answers (one
	 * EmptyQueryResponse and ReadyForQuery).  The backend sends the
	 * notifications of every transaction that committed before it read the
	 * query ahead of ReadyForQuery, and PQexec queues them for PQnotifies.
	 */
	res = PQexec(db->conn, "");
	ok = PQresultStatus(res) == PGRES_EMPTY_QUERY && PQstatus(db->conn) == CONNECTION_OK;
	PQclear(res);
	if (ok)
		return 0;
	mark_down(db, "connection lost");
	return db_connect(db);
}

static int sqlstate_is(const PGresult *res, const char *code)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state != NULL && strcmp(state, code) == 0;
}

PGresult *db_exec(struct db *db, enum stmt s, const char *const *params)
{
	const struct statement *st = &statements[s];

	for (int attempt = 0; attempt < 5; attempt++) {
		PGresult *res;

		if (db_ready(db) < 0)
			return NULL;
		res = PQexecPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0);
		if (PQstatus(db->conn) != CONNECTION_OK) {
			PQclear(res);
			mark_down(db, "connection lost during a statement");
			/* A write may or may not have committed: only reads retry. */
			if (st->read_only && attempt == 0)
				continue;
			return NULL;
		}
		/* The statement was rolled back as a whole: running it again is safe. */
		if (sqlstate_is(res, "40P01") || sqlstate_is(res, "40001")) {
			log_warn("%s: %s, retrying", st->name,
				 sqlstate_is(res, "40P01") ? "deadlock" : "serialization failure");
			PQclear(res);
			continue;
		}
		return res;
	}
	log_error("%s: gave up after repeated deadlocks", st->name);
	return NULL;
}

uint64_t db_fingerprint_term(const char *id, uint32_t xmin)
{
	size_t len = strlen(id);
	uint64_t low = strtoull(id + (len > 7 ? len - 7 : 0), NULL, 16) & 0xfffffff;

	/* < 2^32 * 2^28: no overflow, and already below the modulus. */
	return ((uint64_t)xmin + 1) * (low | 1);
}

int db_error_status(const PGresult *res, char *msg, size_t msgsize)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

	if (state == NULL)
		state = "";
	if (constraint != NULL)
		for (size_t i = 0; i < sizeof constraint_messages / sizeof constraint_messages[0]; i++)
			if (strcmp(constraint, constraint_messages[i].constraint) == 0) {
				snprintf(msg, msgsize, "%s", constraint_messages[i].message);
				/* A well-formed request that contradicts an earlier one with its key (sql/004). */
				if (strcmp(constraint, "registry_idempotency_key_reused") == 0)
					return 422;
				return 400;
			}
	/* Class 23: integrity constraints; 22: bad data.  Both are the client's. */
	if (strcmp(state, "23502") == 0) {
		const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);

		snprintf(msg, msgsize, "%s is required", column ? column : "a field");
		return 400;
	}
	if (strncmp(state, "23", 2) == 0) {
		snprintf(msg, msgsize, "request violates the rule %s",
			 constraint ? constraint : "of the registry table");
		return 400;
	}
	if (strncmp(state, "22", 2) == 0) {
		snprintf(msg, msgsize, "request contains a value the database refuses");
		return 400;
	}
	/*
	 * lock_timeout: a writer (a DBA's open transaction, most likely) holds
	 * the registry write lock or the row.  Not an outage: say who is in the way.
	 */
	if (strcmp(state, "55P03") == 0) {
		snprintf(msg, msgsize, "another transaction holds the registry write lock; try again shortly");
		return 503;
	}
	/* Connection problems, shutdown, timeouts: try again later. */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
	    strcmp(state, "53300") == 0) {
		snprintf(msg, msgsize, "database unavailable, try again later");
		return 503;
	}
	snprintf(msg, msgsize, "internal error");
	return 500;
}
