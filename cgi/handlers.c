/*
 * handlers.c - the registry endpoints.  The dispatcher has already checked
 * the route's preconditions: r->id is a well-formed id when the route has one
 * and r->body is a parsed JSON object when it takes one.
 */
#include "handlers.h"
#include "db.h"
#include "log.h"
#include "resp.h"
#include "validate.h"

#include <json-c/json.h>
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

/* The six Zadig fields of row i; caller owns the object. */
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
	return obj;
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
	char err[256];
	PGresult *res = NULL;
	struct json_object *obj;

	if (registry_input_parse(r->body, INPUT_CREATE, &in, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		goto out;
	}
	const char *params[] = {
		in.address, in.provider, in.region, in.namespace,
		in.is_default == TRI_TRUE ? "true" : "false",
		in.access_key, in.secret_key,
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
	registry_input_free(&in);
}

/* 200, 400 naming the field or rule, 404, 503. */
void h_registry_update(struct req *r)
{
	struct registry_input in;
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
	const char *params[] = {
		r->id, in.address, in.provider, in.region, in.namespace,
		/* PUT replaces: an absent is_default means false, as in Zadig. */
		in.is_default == TRI_TRUE ? "true" : "false",
		in.access_key, in.secret_key, tristate_param(in.enable_tls), in.tls_cert,
	};
	res = db_exec(r->db, STMT_REGISTRY_UPDATE, params);
	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQntuples(res) == 0)
		resp_error(r, 404, "registry %s not found", r->id);
	else
		resp_success(r);
out:
	PQclear(res);
	registry_input_free(&in);
}

/* 200, 404, 503. */
void h_registry_delete(struct req *r)
{
	const char *params[] = { r->id };
	PGresult *res = db_exec(r->db, STMT_REGISTRY_DELETE, params);

	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQntuples(res) == 0)
		resp_error(r, 404, "registry %s not found", r->id);
	else
		resp_success(r);
out:
	PQclear(res);
}
