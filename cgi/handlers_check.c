/*
 * handlers_check.c - the registry check endpoints.  A check that finds a
 * problem is still a 200: the problem is its answer (error, error_kind).
 * Only the request itself can fail (400, 404, 429, 500, 503).
 */
#include "handlers_check.h"
#include "config.h"
#include "handlers.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "outbound.h"
#include "regcheck.h"
#include "resp.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* check_timeout when the worker was not given one (unit tests). */
#define CHECK_TIMEOUT_DEFAULT_MS 5000

struct regcheck_options check_options(const struct req *r)
{
	struct regcheck_options o = {
		.timeout_ms = r->cfg->check_timeout_ms > 0 ? r->cfg->check_timeout_ms : CHECK_TIMEOUT_DEFAULT_MS,
		.allow = r->cfg->allow, .nallow = r->cfg->nallow,
	};

	return o;
}

int outbound_take(struct req *r, int *slot)
{
	char err[256], retry[48];

	*slot = -1;
	if (r->check_concurrency <= 0)
		return 0;       /* unit tests: no host to share */
	switch (outbound_acquire(r->cfg->generation_file, r->check_concurrency, slot, err, sizeof err)) {
	case OUTBOUND_SLOT:
		return 0;
	case OUTBOUND_BUSY:
		/* At once: waiting here would hold this worker too, which is what the bound prevents. */
		snprintf(retry, sizeof retry, "Retry-After: %d\r\n",
			 outbound_retry_after(check_options(r).timeout_ms));
		resp_error_h(r, 429, retry, "%d registry operations are already running on this host"
			     " (check_concurrency); try again later", r->check_concurrency);
		return -1;
	case OUTBOUND_UNUSABLE:
	default:
		/* No bound, no outbound call: one slow registry could otherwise hold every worker. */
		log_error("registry operations are off: %s", err);
		resp_error(r, 503, "registry operations are unavailable on this host (generation_file cannot"
			   " hold the check_concurrency slots; see the log)");
		return -1;
	}
}

/* One line per check for the operator: who, the verdict, why, how long; never a credential. */
static void log_check(const char *who, const struct regcheck_result *res)
{
	const char *kind = regcheck_kind_name(res->kind);

	log_info("check %s: %s kind=%s %ldms%s", who, res->kind == RC_OK ? "ok" : "failed",
		 kind ? kind : "-", res->latency_ms, res->warning[0] ? " (with a warning)" : "");
}

/*
 * 200 with the result, 400 naming the field or rule, 429 (check_concurrency
 * reached), 503 (no slot file).  The body is what POST
 * /openapi/system/registry takes, with the same rules; nothing is stored.
 */
void h_registry_check(struct req *r)
{
	struct registry_input in;
	struct regcheck_options opts = check_options(r);
	struct regcheck_result res;
	char err[256];
	int slot = -1;

	if (registry_input_parse(r->body, INPUT_CREATE, &in, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		goto out;
	}
	if (outbound_take(r, &slot) < 0)
		goto out;
	const struct regcheck_input ci = {
		.address = in.address, .provider = in.provider, .namespace = in.namespace,
		.enable_tls = in.enable_tls == TRI_TRUE,
		.tls_cert = in.tls_cert, .access_key = in.access_key, .secret_key = in.secret_key,
	};
	regcheck_run(&ci, &opts, &res);
	outbound_release(slot);
	slot = -1;
	log_check(in.address, &res);
	struct json_object *obj = regcheck_result_json(&res, in.address);
	resp_json(r, 200, NULL, obj);
	json_object_put(obj);
out:
	registry_input_free(&in);
	outbound_release(slot);
}

/* 1 when the request carries a body (this route takes none). */
static int has_body(struct req *r)
{
	const char *len = r->io->param(r->io->ctx, "CONTENT_LENGTH");
	const char *te = r->io->param(r->io->ctx, "HTTP_TRANSFER_ENCODING");

	return (len != NULL && *len != '\0' && strspn(len, "0") != strlen(len)) || (te != NULL && *te != '\0');
}

PGresult *check_target_load(struct req *r)
{
	const char *params[] = { r->id };
	PGresult *res = db_exec(r->db, STMT_REGISTRY_CHECK_TARGET, params);

	if (!result_ok(r, res, PGRES_TUPLES_OK)) {
		PQclear(res);
		return NULL;
	}
	if (PQntuples(res) == 0) {
		resp_error(r, 404, "registry %s not found", r->id);
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * Opens one sealed column of row 0: *out is the plaintext (caller frees with
 * secret_free) or NULL when the column is NULL.  Returns -1 when a value is
 * there but the key cannot open it.
 */
int unseal_stored(struct req *r, const PGresult *res, int col, const char *aad, char **out)
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
 * not take), 404, 429 (check_concurrency reached), 503.  Only the stored address, TLS settings and
 * credentials are used: nothing in the request can send the stored
 * credentials elsewhere, which is why a body is refused rather than ignored.
 */
void h_registry_check_stored(struct req *r)
{
	struct regcheck_options opts = check_options(r);
	struct regcheck_result result;
	char *access = NULL, *secret = NULL;
	PGresult *res = NULL;
	int slot = -1;

	if (has_body(r)) {
		resp_error(r, 400, "this endpoint checks the registry as stored and takes no body; to check other"
			   " settings, POST them to /openapi/system/registry/validate");
		return;
	}
	res = check_target_load(r);
	if (res == NULL)
		goto out;
	int key_problem = unseal_stored(r, res, CHK_ACCESS_KEY_SEALED, "access_key", &access) < 0;
	key_problem |= unseal_stored(r, res, CHK_SECRET_KEY_SEALED, "secret_key", &secret) < 0;
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
		.namespace = PQgetvalue(res, 0, CHK_NAMESPACE),
	};
	if (outbound_take(r, &slot) < 0)
		goto out;
	regcheck_run(&ci, &opts, &result);
	outbound_release(slot);
	slot = -1;
	if (key_problem)
		regcheck_credentials_unopened(&result);
	char who[80];
	snprintf(who, sizeof who, "registry %s", r->id);
	log_check(who, &result);
	struct json_object *obj = regcheck_result_json(&result, ci.address);
	json_object_object_add(obj, "registry_id", json_object_new_string(r->id));
	resp_json(r, 200, NULL, obj);
	json_object_put(obj);
out:
	secret_free(access);
	secret_free(secret);
	PQclear(res);
	outbound_release(slot);
}
