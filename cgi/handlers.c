/*
 * handlers.c - the registry endpoints.  The dispatcher has already checked
 * the route's preconditions: r->id is a well-formed id when the route has one
 * and r->body is a parsed JSON object when it takes one.
 */
#include "handlers.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "resp.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* Answers for a failed or missing result: 503, a named 400, or 500. */
static void reply_db_error(struct req *r, const PGresult *res)
{
	char msg[256];
	int status;

	if (res == NULL) {
		resp_error(r, 503, "database unavailable, try again later");
		return;
	}
	status = db_error_status(res, msg, sizeof msg);
	if (status >= 500)
		log_error("%s %s: database error %s: %s", r->method, r->path,
			  PQresultErrorField(res, PG_DIAG_SQLSTATE),
			  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	resp_error(r, status, "%s", msg);
}

/* 1 when res is a successful result of the expected kind, else replies. */
static int result_ok(struct req *r, const PGresult *res, ExecStatusType want)
{
	if (res != NULL && PQresultStatus(res) == want)
		return 1;
	reply_db_error(r, res);
	return 0;
}

/*
 * The six Zadig fields of row i, then has_credentials and
 * credentials_updated_at (extra fields do not disturb Zadig's clients).
 * Caller owns the object.
 */
static struct json_object *registry_json(const PGresult *res, int i)
{
	static const char *const names[] = {
		"registry_id", "address", "provider", "region", "namespace",
	};
	struct json_object *obj = json_object_new_object();

	for (int c = 0; c < 5; c++)
		json_object_object_add(obj, names[c],
				       json_object_new_string(PQgetvalue(res, i, c)));
	json_object_object_add(obj, "is_default",
			       json_object_new_boolean(PQgetvalue(res, i, 5)[0] == 't'));
	json_object_object_add(obj, "has_credentials",
			       json_object_new_boolean(PQgetvalue(res, i, 6)[0] == 't'));
	json_object_object_add(obj, "credentials_updated_at", PQgetisnull(res, i, 7) ? NULL
			       : json_object_new_string(PQgetvalue(res, i, 7)));
	return obj;
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

/* 200 list (possibly empty), 503. */
void h_registry_list(struct req *r)
{
	PGresult *res = db_exec(r->db, STMT_REGISTRY_LIST, NULL);
	struct json_object *list;

	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	list = json_object_new_array_ext(PQntuples(res));
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(list, registry_json(res, i));
	resp_json(r, 200, NULL, list);
	json_object_put(list);
out:
	PQclear(res);
}

/* 200, 404, 503. */
void h_registry_get(struct req *r)
{
	const char *params[] = { r->id };
	PGresult *res = db_exec(r->db, STMT_REGISTRY_GET, params);
	struct json_object *obj;

	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQntuples(res) == 0) {
		resp_error(r, 404, "registry %s not found", r->id);
		goto out;
	}
	obj = registry_json(res, 0);
	resp_json(r, 200, NULL, obj);
	json_object_put(obj);
out:
	PQclear(res);
}

/* 200 with the new id, 400 naming the field or rule, 503. */
void h_registry_create(struct req *r)
{
	struct registry_input in;
	struct sealed sealed = { NULL, NULL };
	char err[256];
	PGresult *res = NULL;
	struct json_object *obj;

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
		in.tls_cert,
	};
	res = db_exec(r->db, STMT_REGISTRY_INSERT, params);
	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	obj = json_object_new_object();
	json_object_object_add(obj, "message", json_object_new_string("success"));
	json_object_object_add(obj, "registry_id", json_object_new_string(PQgetvalue(res, 0, 0)));
	resp_json(r, 200, NULL, obj);
	json_object_put(obj);
out:
	PQclear(res);
	sealed_free(&sealed);
	registry_input_free(&in);
}

/* 200 (with a warning when stored credentials were cleared), 400 naming the field or rule, 404, 503. */
void h_registry_update(struct req *r)
{
	struct registry_input in;
	struct sealed sealed = { NULL, NULL };
	char err[256];
	PGresult *res = NULL;

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
	};
	res = db_exec(r->db, STMT_REGISTRY_UPDATE, params);
	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQgetvalue(res, 0, 0)[0] != 't') {
		resp_error(r, 404, "registry %s not found", r->id);
	} else if (PQgetvalue(res, 0, 1)[0] == 't') {
		struct json_object *obj = json_object_new_object();

		json_object_object_add(obj, "message", json_object_new_string("success"));
		json_object_object_add(obj, "warning", json_object_new_string(
			"the address moved to another host without a new secret_key:"
			" the stored access_key and secret_key were cleared; send them again"));
		resp_json(r, 200, NULL, obj);
		json_object_put(obj);
	} else {
		resp_success(r);
	}
out:
	PQclear(res);
	sealed_free(&sealed);
	registry_input_free(&in);
}

/* 200, 404, 503. */
void h_registry_delete(struct req *r)
{
	const char *params[] = { r->actor, r->id };
	PGresult *res = db_exec(r->db, STMT_REGISTRY_DELETE, params);

	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQgetvalue(res, 0, 0)[0] != 't')
		resp_error(r, 404, "registry %s not found", r->id);
	else
		resp_success(r);
out:
	PQclear(res);
}

/* 200 {"status":"ok","database":"up"} or 503 {"status":"degraded","database":"down"}. */
void h_health(struct req *r)
{
	PGresult *res = db_exec(r->db, STMT_HEALTH, NULL);
	int up = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "status", json_object_new_string(up ? "ok" : "degraded"));
	json_object_object_add(obj, "database", json_object_new_string(up ? "up" : "down"));
	resp_json(r, up ? 200 : 503, NULL, obj);
	json_object_put(obj);
	PQclear(res);
}
