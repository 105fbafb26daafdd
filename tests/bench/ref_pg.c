/* ref_pg.c - benchmark reference: a minimal libfcgi + libpq prefork responder running imagereg's SQL, no auth. */
#define _POSIX_C_SOURCE 200809L
#include "prefork.h"

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (1 << 20)
#define PAGE_SIZE_MAX 100       /* as imagereg's list_query.h */
#define ACTOR "bench-reference"

/*
 * The same statements, text for text, as the statements[] table of cgi/db.c
 * (tests/bench/same_sql.py checks it in the smoke test).  Idempotency keys and
 * If-Match versions are NULL: what imagereg passes when a client sends neither.
 */
#define REGISTRY_COLUMNS "id, address, provider, region, namespace, is_default," \
	" secret_key_sealed IS NOT NULL AS has_credentials," \
	" to_json(credentials_updated_at) #>> '{}' AS credentials_updated_at, version," \
	" (extract(epoch FROM created_at) * 1000000)::bigint AS created_us, xmin::text::bigint AS row_xmin"

enum stmt { S_LIST, S_GET, S_PAGE, S_INSERT, S_UPDATE, S_DELETE, S__MAX };

static const struct {
	const char *name;
	int nparams;
	const char *sql;
} statements[S__MAX] = {
	[S_LIST] = { "registry_list", 0,
		"SELECT " REGISTRY_COLUMNS " FROM registry ORDER BY created_at, id" },
	[S_GET] = { "registry_get", 1,
		"SELECT " REGISTRY_COLUMNS " FROM registry WHERE id = $1" },
	/*
	 * imagereg filters and pages its cached list and has no statement for a
	 * page: this is the one a responder without a cache would run, the count
	 * of every match (X-Total-Count) included, in one round trip.
	 */
	[S_PAGE] = { "registry_page", 3,
		"SELECT " REGISTRY_COLUMNS ", count(*) OVER () AS total FROM registry WHERE provider = $1"
		" ORDER BY created_at, id LIMIT $2 OFFSET $3" },
	[S_INSERT] = { "registry_insert", 11,
		"SELECT registry_id, replayed FROM imagereg_registry_create($1, $2, $3, $4, $5, $6::boolean,"
		" $7::bytea, $8::bytea, $9::boolean, $10, $11)" },
	[S_UPDATE] = { "registry_update", 12,
		"SELECT found, credentials_cleared, precondition_failed, version FROM imagereg_registry_update($1, $2,"
		" $3, $4, $5, $6, $7::boolean, $8::bytea, $9::bytea, $10::boolean, $11, $12::bigint[])" },
	[S_DELETE] = { "registry_delete", 3,
		"SELECT found, precondition_failed, version FROM imagereg_registry_delete($1, $2, $3::bigint[])" },
};

/* The fields of a registry body this reference passes on; NULL when absent. */
struct input {
	const char *address, *provider, *region, *namespace, *is_default, *enable_tls;
};

/* Connects with IMAGEREG_DSN (the responder's role) and prepares every statement, once per worker. */
static void *connect_db(void)
{
	PGconn *conn = PQconnectdb(getenv("IMAGEREG_DSN") ? getenv("IMAGEREG_DSN") : "");
	PGresult *res;

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "ref_pg: %s", PQerrorMessage(conn));
		exit(1);
	}
	/* As imagereg's session: timestamps come out in UTC. */
	res = PQexec(conn, "SET TimeZone = 'UTC'");
	PQclear(res);
	for (int i = 0; i < S__MAX; i++) {
		res = PQprepare(conn, statements[i].name, statements[i].sql, statements[i].nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "ref_pg: prepare %s: %s", statements[i].name, PQerrorMessage(conn));
			exit(1);
		}
		PQclear(res);
	}
	return conn;
}

/* Serialises obj as the response body, after the extra header lines, and drops it. */
static void reply_json_with(FCGX_Request *r, int status, const char *extra, struct json_object *obj)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	prefork_reply_with(r, status, extra, text, (int)len);
	json_object_put(obj);
}

static void reply_json(FCGX_Request *r, int status, struct json_object *obj)
{
	reply_json_with(r, status, "", obj);
}

static void reply_message(FCGX_Request *r, int status, const char *message)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "message", json_object_new_string(message));
	reply_json(r, status, obj);
}

/* Row i as imagereg shows it.  Caller owns the object. */
static struct json_object *registry_json(const PGresult *res, int i)
{
	static const char *const names[] = { "registry_id", "address", "provider", "region", "namespace" };
	struct json_object *obj = json_object_new_object();

	for (int c = 0; c < 5; c++)
		json_object_object_add(obj, names[c], json_object_new_string(PQgetvalue(res, i, c)));
	json_object_object_add(obj, "is_default", json_object_new_boolean(PQgetvalue(res, i, 5)[0] == 't'));
	json_object_object_add(obj, "has_credentials",
			       json_object_new_boolean(PQgetvalue(res, i, 6)[0] == 't'));
	json_object_object_add(obj, "credentials_updated_at", PQgetisnull(res, i, 7) ? NULL
			       : json_object_new_string(PQgetvalue(res, i, 7)));
	return obj;
}

/* The body as JSON; NULL when missing, too big or not an object.  Caller owns it. */
static struct json_object *read_body(FCGX_Request *r)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
	long len = cl != NULL ? strtol(cl, NULL, 10) : 0;
	struct json_object *obj = NULL;
	char *buf;

	if (len <= 0 || len > MAX_BODY || (buf = malloc(len + 1)) == NULL)
		return NULL;
	if (FCGX_GetStr(buf, (int)len, r->in) == len) {
		buf[len] = '\0';
		obj = json_tokener_parse(buf);
	}
	free(buf);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* A string field, or NULL.  Points into obj. */
static const char *field(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string)
		? json_object_get_string(v) : NULL;
}

/* A boolean field as a parameter ("true"/"false"), or dflt when absent. */
static const char *flag(struct json_object *obj, const char *key, const char *dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v) ? "true" : "false";
}

/* Runs a prepared statement; answers 500 and returns NULL unless it returned rows. */
static PGresult *run(FCGX_Request *r, PGconn *db, enum stmt s, const char *const *params)
{
	PGresult *res = PQexecPrepared(db, statements[s].name, statements[s].nparams, params, NULL, NULL, 0);

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	fprintf(stderr, "ref_pg: %s: %s", statements[s].name, PQerrorMessage(db));
	PQclear(res);
	reply_message(r, 500, "database error");
	return NULL;
}

static void do_list(FCGX_Request *r, PGconn *db)
{
	PGresult *res = run(r, db, S_LIST, NULL);
	struct json_object *list;

	if (res == NULL)
		return;
	list = json_object_new_array_ext(PQntuples(res));
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(list, registry_json(res, i));
	reply_json(r, 200, list);
	PQclear(res);
}

static void do_get(FCGX_Request *r, PGconn *db, const char *id)
{
	const char *params[] = { id };
	PGresult *res = run(r, db, S_GET, params);

	if (res == NULL)
		return;
	if (PQntuples(res) == 0)
		reply_message(r, 404, "not found");
	else
		reply_json(r, 200, registry_json(res, 0));
	PQclear(res);
}

/*
 * The value of query parameter name, copied into buf: 0, 1 when it is absent,
 * -1 when it is empty, too long or escaped (the bench sends plain values only).
 */
static int query_param(const char *query, const char *name, char *buf, size_t size)
{
	size_t name_len = strlen(name);

	for (const char *p = query; *p != '\0'; p += strcspn(p, "&"), p += *p == '&') {
		size_t len = strcspn(p, "&");

		if (len <= name_len || strncmp(p, name, name_len) != 0 || p[name_len] != '=')
			continue;
		len -= name_len + 1;
		if (len == 0 || len >= size || memchr(p + name_len + 1, '%', len) != NULL)
			return -1;
		memcpy(buf, p + name_len + 1, len);
		buf[len] = '\0';
		return 0;
	}
	return 1;
}

/* A query parameter that must be a number from 1 to max, or dflt when absent; -1 when it is not. */
static long query_number(const char *query, const char *name, long max, long dflt)
{
	char buf[16], *end;
	int found = query_param(query, name, buf, sizeof buf);
	long n;

	if (found != 0)
		return found > 0 ? dflt : -1;
	n = strtol(buf, &end, 10);
	return *end == '\0' && n >= 1 && n <= max ? n : -1;
}

/* GET .../registry?provider=P[&page=N][&page_size=M]: the matches of that page, X-Total-Count all of them. */
static void do_page(FCGX_Request *r, PGconn *db, const char *query)
{
	char provider[32], limit[16], offset[32], header[64];
	long page = query_number(query, "page", 1000000000L, 1);
	long page_size = query_number(query, "page_size", PAGE_SIZE_MAX, 20);
	const char *params[] = { provider, limit, offset };
	struct json_object *list;
	PGresult *res;

	if (query_param(query, "provider", provider, sizeof provider) != 0 || page < 0 || page_size < 0) {
		reply_message(r, 400, "this reference pages by provider, page and page_size only");
		return;
	}
	snprintf(limit, sizeof limit, "%ld", page_size);
	snprintf(offset, sizeof offset, "%lld", (long long)(page - 1) * page_size);
	res = run(r, db, S_PAGE, params);
	if (res == NULL)
		return;
	list = json_object_new_array_ext(PQntuples(res));
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(list, registry_json(res, i));
	/* An empty page has no row to carry the count: imagereg would say how many match; rare in the bench. */
	snprintf(header, sizeof header, "X-Total-Count: %s\r\n",
		 PQntuples(res) > 0 ? PQgetvalue(res, 0, PQnfields(res) - 1) : "0");
	reply_json_with(r, 200, header, list);
	PQclear(res);
}

static void do_create(FCGX_Request *r, PGconn *db, struct json_object *in)
{
	const char *params[] = {
		ACTOR, field(in, "address"), field(in, "provider"), field(in, "region"),
		field(in, "namespace"), flag(in, "is_default", "false"), NULL, NULL,
		flag(in, "enable_tls", "false"), field(in, "tls_cert"), NULL,
	};
	PGresult *res = run(r, db, S_INSERT, params);
	struct json_object *obj;

	if (res == NULL)
		return;
	obj = json_object_new_object();
	json_object_object_add(obj, "message", json_object_new_string("success"));
	json_object_object_add(obj, "registry_id", json_object_new_string(PQgetvalue(res, 0, 0)));
	reply_json(r, 200, obj);
	PQclear(res);
}

static void do_update(FCGX_Request *r, PGconn *db, const char *id, struct json_object *in)
{
	const char *params[] = {
		ACTOR, id, field(in, "address"), field(in, "provider"), field(in, "region"),
		field(in, "namespace"), flag(in, "is_default", "false"), NULL, NULL,
		flag(in, "enable_tls", NULL), field(in, "tls_cert"), NULL,
	};
	PGresult *res = run(r, db, S_UPDATE, params);

	if (res == NULL)
		return;
	reply_message(r, PQgetvalue(res, 0, 0)[0] == 't' ? 200 : 404,
		      PQgetvalue(res, 0, 0)[0] == 't' ? "success" : "not found");
	PQclear(res);
}

static void do_delete(FCGX_Request *r, PGconn *db, const char *id)
{
	const char *params[] = { ACTOR, id, NULL };
	PGresult *res = run(r, db, S_DELETE, params);

	if (res == NULL)
		return;
	reply_message(r, PQgetvalue(res, 0, 0)[0] == 't' ? 200 : 404,
		      PQgetvalue(res, 0, 0)[0] == 't' ? "success" : "not found");
	PQclear(res);
}

/* GET/POST on .../registry (GET with a query string: a page), GET/PUT/DELETE on .../registry/ID. */
static void serve(FCGX_Request *r, void *ctx)
{
	PGconn *db = ctx;
	const char *method = FCGX_GetParam("REQUEST_METHOD", r->envp);
	const char *path = FCGX_GetParam("PATH_INFO", r->envp);
	const char *query = FCGX_GetParam("QUERY_STRING", r->envp);
	const char *id = path != NULL ? strstr(path, "/registry/") : NULL;
	struct json_object *in = NULL;

	if (method == NULL)
		method = "";
	if (id != NULL)
		id += strlen("/registry/");
	if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		in = read_body(r);
		if (in == NULL) {
			reply_message(r, 400, "body must be a JSON object");
			return;
		}
	}
	if (strcmp(method, "GET") == 0 && id != NULL)
		do_get(r, db, id);
	else if (strcmp(method, "GET") == 0 && query != NULL && query[0] != '\0')
		do_page(r, db, query);
	else if (strcmp(method, "GET") == 0)
		do_list(r, db);
	else if (strcmp(method, "POST") == 0 && id == NULL)
		do_create(r, db, in);
	else if (strcmp(method, "PUT") == 0 && id != NULL)
		do_update(r, db, id, in);
	else if (strcmp(method, "DELETE") == 0 && id != NULL)
		do_delete(r, db, id);
	else
		reply_message(r, 405, "method not allowed");
	json_object_put(in);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: IMAGEREG_DSN=... ref_pg SOCKET WORKERS\n");
		return 2;
	}
	return prefork_run(argv[1], (int)strtol(argv[2], NULL, 10), connect_db, serve);
}
