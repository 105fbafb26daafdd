/*
 * handlers.c - the registry endpoints.  The dispatcher has already checked
 * the route's preconditions: r->id is a well-formed id when the route has one
 * and r->body is a parsed JSON object when it takes one.
 */
#include "handlers.h"
#include "cache.h"
#include "crypto.h"
#include "db.h"
#include "etag.h"
#include "list_query.h"
#include "log.h"
#include "resp.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest Idempotency-Key (registry_idempotency_key_shape). */
#define IDEMPOTENCY_KEY_MAX 128

/* Every 503 says when to come back: the causes (an outage, a held lock) pass in seconds. */
#define RETRY_AFTER "Retry-After: 1\r\n"

/* Answers for a failed or missing result: 503 with Retry-After, a named 400, or 500. */
static void reply_db_error(struct req *r, const PGresult *res)
{
	char msg[256];
	int status;

	if (res == NULL) {
		resp_error_h(r, 503, RETRY_AFTER, "database unavailable, try again later");
		return;
	}
	status = db_error_status(res, msg, sizeof msg);
	if (status >= 500)
		log_error("%s %s: database error %s: %s", r->method, r->path,
			  PQresultErrorField(res, PG_DIAG_SQLSTATE),
			  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	resp_error_h(r, status, status == 503 ? RETRY_AFTER : NULL, "%s", msg);
}

int result_ok(struct req *r, const PGresult *res, ExecStatusType want)
{
	if (res != NULL && PQresultStatus(res) == want)
		return 1;
	reply_db_error(r, res);
	return 0;
}

/* Sealed credentials of a body, as bytea parameters; NULL when not sent. */
struct sealed {
	char *access_key;
	char *secret_key;
};

/* Seals what the body sent.  Returns 0, or -1 after answering 500. */
static int seal_credentials(struct req *r, const struct registry_input *in, struct sealed *out)
{
	out->access_key = out->secret_key = NULL;
	if (in->access_key != NULL &&
	    (out->access_key = seal_to_bytea(r->key, "access_key", in->access_key,
					     strlen(in->access_key))) == NULL)
		goto fail;
	if (in->secret_key != NULL &&
	    (out->secret_key = seal_to_bytea(r->key, "secret_key", in->secret_key,
					     strlen(in->secret_key))) == NULL)
		goto fail;
	return 0;
fail:
	log_error("sealing credentials failed");
	resp_error(r, 500, "internal error");
	free(out->access_key);
	out->access_key = NULL;
	return -1;
}

static void sealed_free(struct sealed *s)
{
	free(s->access_key);
	free(s->secret_key);
}

static const char *tristate_param(enum tristate t)
{
	return t == TRI_ABSENT ? NULL : t == TRI_TRUE ? "true" : "false";
}

/* The registries as the cache has them: 200 and *set, or an answer sent and NULL. */
static const struct registry_set *registries(struct req *r)
{
	const struct registry_set *set;
	char msg[256];
	int status = cache_registries(r->cache, &set, msg, sizeof msg);

	if (status == 200)
		return set;
	resp_error(r, status, "%s", msg);
	return NULL;
}

/*
 * The filtered and paged list: the matching registries of the page, oldest
 * first, as one JSON array built from the cached texts.  X-Total-Count
 * needs every match counted; once counted, the count is kept until the
 * items change (cache_filter_total), and the next pages stop looking at
 * rows when they are full.
 */
static void send_filtered(struct req *r, const struct registry_set *set, const struct list_query *q)
{
	/* Not paged: every match.  page <= LIST_PAGE_MAX and page_size <= 100 cannot overflow. */
	size_t first = q->page > 0 ? (size_t)(q->page - 1) * (size_t)q->page_size : 0;
	size_t last = q->page > 0 ? first + (size_t)q->page_size : (size_t)-1;
	size_t room = q->page > 0 ? (size_t)q->page_size : set->n;
	size_t total = 0, counted = 0, n = 0, size = 2;
	int known = cache_filter_total(r->cache, q, &counted);
	size_t stop = known ? last : (size_t)-1;        /* with the count known, a full page ends the look */
	const struct cached_registry **page = malloc((room ? room : 1) * sizeof *page);
	char header[64], *body, *p;

	if (page == NULL) {
		resp_error(r, 500, "out of memory");
		return;
	}
	for (size_t i = 0; i < set->n && total < stop; i++) {
		const struct cached_registry *reg = &set->items[i];

		if (!list_query_match(q, reg->address, reg->provider, reg->namespace, reg->is_default))
			continue;
		if (total >= first && total < last) {
			page[n++] = reg;
			size += reg->json_len + 1;
		}
		total++;
	}
	if (known)
		total = counted;
	else
		cache_filter_total_keep(r->cache, q, total);
	body = p = malloc(size);
	if (body == NULL) {
		free(page);
		resp_error(r, 500, "out of memory");
		return;
	}
	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, page[i]->json, page[i]->json_len);
		p += page[i]->json_len;
	}
	*p++ = ']';
	snprintf(header, sizeof header, "X-Total-Count: %zu\r\n", total);
	resp_json_text(r, 200, header, body, (size_t)(p - body));
	free(body);
	free(page);
}

/*
 * 200 list (possibly empty) with X-Total-Count, 400 naming a query parameter,
 * 500 (out of memory), 503.  Without filters or paging the answer is the cached list as it is.
 */
void h_registry_list(struct req *r)
{
	struct list_query q;
	const struct registry_set *set;
	const char *json;
	size_t len;
	char err[256], header[64];

	if (list_query_parse(r->io->param(r->io->ctx, "QUERY_STRING"), &q, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		return;
	}
	set = registries(r);
	if (set == NULL)
		return;
	if (list_query_active(&q)) {
		send_filtered(r, set, &q);
		return;
	}
	if (cache_list_json(r->cache, &json, &len) < 0) {
		resp_error(r, 500, "out of memory");
		return;
	}
	snprintf(header, sizeof header, "X-Total-Count: %zu\r\n", set->n);
	resp_json_text(r, 200, header, json, len);
}

/* 200 with ETag, 404, 503. */
void h_registry_get(struct req *r)
{
	const struct registry_set *set = registries(r);
	const struct cached_registry *reg;
	char header[64];

	if (set == NULL)
		return;
	reg = registry_find(set, r->id);
	if (reg == NULL) {
		resp_error(r, 404, "registry %s not found", r->id);
		return;
	}
	snprintf(header, sizeof header, "ETag: \"%s\"\r\n", reg->version);
	resp_json_text(r, 200, header, reg->json, reg->json_len);
}

/* The If-Match header as the write functions' parameter (in buf); 0, or -1 after answering 400. */
static int if_match_of(struct req *r, struct if_match *m, const char **param, char *buf, size_t size)
{
	char err[256];

	if (if_match_parse(r->io->param(r->io->ctx, "HTTP_IF_MATCH"), m, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		return -1;
	}
	*param = if_match_param(m, buf, size);
	return 0;
}

/* 412 for a registry whose version If-Match does not name; the description says what it is now. */
static void precondition_failed(struct req *r, const struct if_match *m, const char *version)
{
	if (m->tags == 1 && m->n == 1)
		resp_error(r, 412, "registry %s changed since ETag \"%lld\": it is now \"%s\"",
			   r->id, m->versions[0], version);
	else
		resp_error(r, 412, "no entity tag in If-Match matches registry %s, whose ETag is now \"%s\"%s",
			   r->id, version, m->weak > 0 ? " (weak tags never match)" : "");
}

/* 1 when k is 1 to IDEMPOTENCY_KEY_MAX printable ASCII characters (space to tilde). */
static int idempotency_key_valid(const char *k)
{
	size_t len = strlen(k);

	for (size_t i = 0; i < len; i++)
		if (k[i] < 0x20 || k[i] > 0x7e)
			return 0;
	return len >= 1 && len <= IDEMPOTENCY_KEY_MAX;
}

/* The Idempotency-Key header (NULL when absent) in *key; 0, or -1 after answering 400. */
static int idempotency_key_of(struct req *r, const char **key)
{
	*key = r->io->param(r->io->ctx, "HTTP_IDEMPOTENCY_KEY");
	if (*key == NULL || idempotency_key_valid(*key))
		return 0;
	resp_error(r, 400, "Idempotency-Key must be 1 to %d printable ASCII characters", IDEMPOTENCY_KEY_MAX);
	return -1;
}

/*
 * Runs a write statement and, unless PostgreSQL refused it (then nothing
 * changed), tells the other workers before the client hears back; a lost
 * connection may have committed, so it counts as a change.
 */
static PGresult *write_exec(struct req *r, enum stmt s, const char *const *params)
{
	PGresult *res = db_exec(r->db, s, params);

	if (res == NULL || PQresultStatus(res) != PGRES_FATAL_ERROR)
		cache_written(r->cache, GEN_REGISTRY);
	return res;
}

/*
 * Appends to warning (size bytes, "" or earlier warnings) what a save did
 * that its author would not expect: it is saved all the same (Zadig saves
 * it, and it is not wrong, only surprising), but the answer says so.
 * enable_tls_known: the body says enable_tls (a PUT may leave it out).
 */
static void save_warnings(const struct registry_input *in, int enable_tls_known, char *warning, size_t size)
{
	size_t used = strlen(warning);
	const char *sep = used ? "; " : "";

	if (in->address != NULL && strncasecmp(in->address, "http://", 7) == 0 &&
	    ((in->access_key && *in->access_key) || (in->secret_key && *in->secret_key))) {
		snprintf(warning + used, size - used, "%sthe address is plain http://: the credentials are stored, but"
			 " stored credentials are never sent over plain http, so every stored check and browse of"
			 " this registry will fail authentication; use https://", sep);
		used = strlen(warning);
		sep = "; ";
	}
	if (in->tls_cert != NULL && *in->tls_cert != '\0' && enable_tls_known && in->enable_tls != TRI_TRUE)
		snprintf(warning + used, size - used, "%stls_cert is stored but not used: enable_tls is false, so the"
			 " registry's certificate is verified against the system CA store", sep);
}

/*
 * 200 with the new id (or, for an Idempotency-Key this token used within 24
 * hours for the same fields, the first answer again with Idempotency-Replayed),
 * 400 naming the field, rule or header, 422 for a key used with other fields,
 * 503.
 */
void h_registry_create(struct req *r)
{
	struct registry_input in;
	struct sealed sealed = { NULL, NULL };
	char err[256];
	PGresult *res = NULL;
	struct json_object *obj;
	const char *key;

	memset(&in, 0, sizeof in);
	if (idempotency_key_of(r, &key) < 0)
		goto out;
	if (registry_input_parse(r->body, INPUT_CREATE, &in, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		goto out;
	}
	if (seal_credentials(r, &in, &sealed) < 0)
		goto out;
	const char *params[] = {
		r->actor, in.address, in.provider, in.region, in.namespace,
		in.is_default == TRI_TRUE ? "true" : "false",
		sealed.access_key, sealed.secret_key,
		in.enable_tls == TRI_TRUE ? "true" : "false",
		in.tls_cert, key,
	};
	res = write_exec(r, STMT_REGISTRY_INSERT, params);
	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	obj = json_object_new_object();
	json_object_object_add(obj, "message", json_object_new_string("success"));
	json_object_object_add(obj, "registry_id", json_object_new_string(PQgetvalue(res, 0, INS_REGISTRY_ID)));
	char warning[512] = "";
	save_warnings(&in, 1, warning, sizeof warning);
	if (warning[0] != '\0')
		json_object_object_add(obj, "warning", json_object_new_string(warning));
	resp_json(r, 200, PQgetvalue(res, 0, INS_REPLAYED)[0] == 't' ? "Idempotency-Replayed: true\r\n" : NULL, obj);
	json_object_put(obj);
out:
	PQclear(res);
	sealed_free(&sealed);
	registry_input_free(&in);
}

/*
 * 200 with the new ETag (and a warning when stored credentials were cleared),
 * 400 naming the field, rule or header, 404, 412 when If-Match names another
 * version, 503.
 */
void h_registry_update(struct req *r)
{
	struct registry_input in;
	struct sealed sealed = { NULL, NULL };
	struct if_match match;
	char err[256], match_buf[IF_MATCH_PARAM_SIZE], etag[64];
	const char *match_param;
	PGresult *res = NULL;

	memset(&in, 0, sizeof in);
	if (if_match_of(r, &match, &match_param, match_buf, sizeof match_buf) < 0)
		goto out;
	if (registry_input_parse(r->body, INPUT_UPDATE, &in, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		goto out;
	}
	if (in.registry_id != NULL && strcmp(in.registry_id, r->id) != 0) {
		resp_error(r, 400, "registry_id in the body does not match the id in the path");
		goto out;
	}
	if (seal_credentials(r, &in, &sealed) < 0)
		goto out;
	const char *params[] = {
		r->actor, r->id, in.address, in.provider, in.region, in.namespace,
		/* PUT replaces: an absent is_default means false, as in Zadig. */
		in.is_default == TRI_TRUE ? "true" : "false",
		sealed.access_key, sealed.secret_key, tristate_param(in.enable_tls), in.tls_cert,
		match_param,
	};
	res = write_exec(r, STMT_REGISTRY_UPDATE, params);
	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQgetvalue(res, 0, UPD_FOUND)[0] != 't') {
		resp_error(r, 404, "registry %s not found", r->id);
		goto out;
	}
	if (PQgetvalue(res, 0, UPD_PRECONDITION_FAILED)[0] == 't') {
		precondition_failed(r, &match, PQgetvalue(res, 0, UPD_VERSION));
		goto out;
	}
	struct json_object *obj = json_object_new_object();
	char warning[768] = "";

	json_object_object_add(obj, "message", json_object_new_string("success"));
	if (PQgetvalue(res, 0, UPD_CREDENTIALS_CLEARED)[0] == 't')
		snprintf(warning, sizeof warning, "the address moved to another host without a new secret_key:"
			 " the stored access_key and secret_key were cleared; send them again");
	save_warnings(&in, in.enable_tls != TRI_ABSENT, warning, sizeof warning);
	if (warning[0] != '\0')
		json_object_object_add(obj, "warning", json_object_new_string(warning));
	snprintf(etag, sizeof etag, "ETag: \"%s\"\r\n", PQgetvalue(res, 0, UPD_VERSION));
	resp_json(r, 200, etag, obj);
	json_object_put(obj);
out:
	PQclear(res);
	sealed_free(&sealed);
	registry_input_free(&in);
}

/* 200, 400 for a malformed If-Match, 404, 412 when If-Match names another version, 503. */
void h_registry_delete(struct req *r)
{
	struct if_match match;
	char match_buf[IF_MATCH_PARAM_SIZE];
	const char *match_param;
	PGresult *res;

	if (if_match_of(r, &match, &match_param, match_buf, sizeof match_buf) < 0)
		return;
	const char *params[] = { r->actor, r->id, match_param };
	res = write_exec(r, STMT_REGISTRY_DELETE, params);
	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQgetvalue(res, 0, DEL_FOUND)[0] != 't')
		resp_error(r, 404, "registry %s not found", r->id);
	else if (PQgetvalue(res, 0, DEL_PRECONDITION_FAILED)[0] == 't')
		precondition_failed(r, &match, PQgetvalue(res, 0, DEL_VERSION));
	else
		resp_success(r);
out:
	PQclear(res);
}

/*
 * 200 {"status":"ok","database":"up"}; 503 {"status":"degraded","database":"down"},
 * or "read-only" when the node is a standby or the session read-only (writes would fail).
 */
void h_health(struct req *r)
{
	PGresult *res = db_exec(r->db, STMT_HEALTH, NULL);
	int up = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	int read_only = up && PQgetvalue(res, 0, HEALTH_READ_ONLY)[0] == 't';
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "status", json_object_new_string(up && !read_only ? "ok" : "degraded"));
	json_object_object_add(obj, "database", json_object_new_string(read_only ? "read-only" : up ? "up" : "down"));
	resp_json(r, up && !read_only ? 200 : 503, NULL, obj);
	json_object_put(obj);
	PQclear(res);
}
