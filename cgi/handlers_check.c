/*
 * handlers_check.c - the registry check endpoints.  A check that finds a
 * problem is still a 200: the problem is its answer (error, error_kind).
 * Only the request itself can fail (400, 404, 500, 503).
 */
#include "handlers_check.h"
#include "handlers.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "regcheck.h"
#include "resp.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* check_timeout when the worker was not given one (unit tests). */
#define CHECK_TIMEOUT_DEFAULT_MS 5000

/*
 * The worker's check settings into *o (nets is its storage).  The allow-list
 * was parsed once at start (main.c refuses to serve a bad one), so a failure
 * here is a bug: 500.  Returns 0 or -1 after answering.
 */
static int check_options(struct req *r, struct regcheck_net nets[REGCHECK_MAX_NETS],
			 struct regcheck_options *o)
{
	char err[160];
	size_t n = 0;

	if (regcheck_nets_parse(r->check_allow_networks, nets, REGCHECK_MAX_NETS, &n, err, sizeof err) < 0) {
		log_error("bug: check_allow_networks passed the start-up check but now: %s", err);
		resp_error(r, 500, "internal error");
		return -1;
	}
	o->timeout_ms = r->check_timeout_ms > 0 ? r->check_timeout_ms : CHECK_TIMEOUT_DEFAULT_MS;
	o->allow = nets;
	o->nallow = n;
	return 0;
}

/* Frees a secret after overwriting it. */
static void secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * 200 with the result, 400 naming the field or rule.  The body is what POST
 * /openapi/system/registry takes, with the same rules; nothing is stored.
 */
void h_registry_validate(struct req *r)
{
	struct registry_input in;
	struct regcheck_net nets[REGCHECK_MAX_NETS];
	struct regcheck_options opts;
	struct regcheck_result res;
	char err[256];

	if (registry_input_parse(r->body, INPUT_CREATE, &in, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		goto out;
	}
	if (check_options(r, nets, &opts) < 0)
		goto out;
	const struct regcheck_input ci = {
		.address = in.address, .provider = in.provider, .enable_tls = in.enable_tls == TRI_TRUE,
		.tls_cert = in.tls_cert, .access_key = in.access_key, .secret_key = in.secret_key,
	};
	regcheck_run(&ci, &opts, &res);
	struct json_object *obj = regcheck_result_json(&res, in.address);
	resp_json(r, 200, NULL, obj);
	json_object_put(obj);
out:
	registry_input_free(&in);
}

/* 1 when the request carries a body (this route takes none). */
static int has_body(struct req *r)
{
	const char *len = r->io->param(r->io->ctx, "CONTENT_LENGTH");
	const char *te = r->io->param(r->io->ctx, "HTTP_TRANSFER_ENCODING");

	return (len != NULL && *len != '\0' && strspn(len, "0") != strlen(len)) || (te != NULL && *te != '\0');
}

/*
 * Opens one sealed column of row 0: *out is the plaintext (caller frees with
 * secret_free) or NULL when the column is NULL.  Returns -1 when a value is
 * there but the key cannot open it.
 */
static int unseal(struct req *r, const PGresult *res, int col, const char *aad, char **out)
{
	*out = NULL;
	if (PQgetisnull(res, 0, col))
		return 0;
	if (r->key != NULL)
		*out = open_from_bytea(r->key, aad, PQgetvalue(res, 0, col));
	return *out != NULL ? 0 : -1;
}

/*
 * 200 with the result and registry_id, 400 (a body, which this route does
 * not take), 404, 503.  Only the stored address, TLS settings and
 * credentials are used: nothing in the request can send the stored
 * credentials elsewhere, which is why a body is refused rather than ignored.
 */
void h_registry_validate_stored(struct req *r)
{
	const char *params[] = { r->id };
	struct regcheck_net nets[REGCHECK_MAX_NETS];
	struct regcheck_options opts;
	struct regcheck_result result;
	char *access = NULL, *secret = NULL;
	PGresult *res = NULL;

	if (has_body(r)) {
		resp_error(r, 400, "this endpoint checks the registry as stored and takes no body; to check other"
			   " settings, POST them to /openapi/system/registry/validate");
		return;
	}
	if (check_options(r, nets, &opts) < 0)
		return;
	res = db_exec(r->db, STMT_REGISTRY_CHECK_TARGET, params);
	if (!result_ok(r, res, PGRES_TUPLES_OK))
		goto out;
	if (PQntuples(res) == 0) {
		resp_error(r, 404, "registry %s not found", r->id);
		goto out;
	}
	int key_problem = unseal(r, res, CHK_ACCESS_KEY_SEALED, "access_key", &access) < 0;
	key_problem |= unseal(r, res, CHK_SECRET_KEY_SEALED, "secret_key", &secret) < 0;
	if (key_problem) {
		/* Half a pair is worse than none: a wrong user name looks like a refusal. */
		log_warn("registry %s: stored credentials cannot be opened with key %s (another key, or altered);"
			 " checking without them", r->id, r->key ? r->key->id : "-");
		secret_free(access);
		secret_free(secret);
		access = secret = NULL;
	}
	const struct regcheck_input ci = {
		.address = PQgetvalue(res, 0, CHK_ADDRESS), .provider = PQgetvalue(res, 0, CHK_PROVIDER),
		.enable_tls = PQgetvalue(res, 0, CHK_ENABLE_TLS)[0] == 't',
		.tls_cert = PQgetisnull(res, 0, CHK_TLS_CERT) ? NULL : PQgetvalue(res, 0, CHK_TLS_CERT),
		.access_key = access, .secret_key = secret, .stored_credentials = 1,
	};
	regcheck_run(&ci, &opts, &result);
	if (key_problem)
		regcheck_credentials_unopened(&result);
	struct json_object *obj = regcheck_result_json(&result, ci.address);
	json_object_object_add(obj, "registry_id", json_object_new_string(r->id));
	resp_json(r, 200, NULL, obj);
	json_object_put(obj);
out:
	secret_free(access);
	secret_free(secret);
	PQclear(res);
}
