/* cli_check.c - `imagereg check [ID]`: the registry check from the command line, for cron and people. */
#include "cli_check.h"
#include "admin_sql.h"
#include "config.h"
#include "crypto.h"
#include "regcheck.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of the query: id, then what the check needs. */
#define CHECK_COLUMNS "id, address, provider, enable_tls, tls_cert, access_key_sealed, secret_key_sealed"

/* Opens column col of row i; NULL when it is NULL or cannot be opened (*bad set). Caller wipes and frees. */
static char *open_column(const struct seal_key *key, const PGresult *res, int i, int col,
			 const char *aad, int *bad)
{
	char *plain;

	if (PQgetisnull(res, i, col))
		return NULL;
	plain = open_from_bytea(key, aad, PQgetvalue(res, i, col));
	if (plain == NULL)
		*bad = 1;
	return plain;
}

static void secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Checks row i and prints its line; returns 1 when the check failed. */
static int check_row(const PGresult *res, int i, const struct seal_key *key,
		     const struct regcheck_options *opts)
{
	const char *id = PQgetvalue(res, i, 0);
	int bad = 0;
	char *access = open_column(key, res, i, 5, "access_key", &bad);
	char *secret = open_column(key, res, i, 6, "secret_key", &bad);
	struct regcheck_result result;

	if (bad) {
		fprintf(stderr, "imagereg: registry %s: the stored credentials cannot be opened with key %s"
			" (another key, or altered); checking without them\n", id, key->id);
		secret_free(access);
		secret_free(secret);
		access = secret = NULL;
	}
	const struct regcheck_input in = {
		.address = PQgetvalue(res, i, 1), .provider = PQgetvalue(res, i, 2),
		.enable_tls = PQgetvalue(res, i, 3)[0] == 't',
		.tls_cert = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
		.access_key = access, .secret_key = secret, .stored_credentials = 1,
	};
	regcheck_run(&in, opts, &result);
	secret_free(access);
	secret_free(secret);
	if (bad)
		regcheck_credentials_unopened(&result);
	struct json_object *obj = json_object_new_object();
	struct json_object *fields = regcheck_result_json(&result, in.address);

	/* registry_id first: the line is read by people too. */
	json_object_object_add(obj, "registry_id", json_object_new_string(id));
	json_object_object_foreach(fields, name, value)
		json_object_object_add(obj, name, json_object_get(value));
	json_object_put(fields);
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(obj);
	return result.kind != RC_OK && result.kind != RC_UNSUPPORTED;
}

int cmd_check(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	struct regcheck_net nets[REGCHECK_MAX_NETS];
	struct regcheck_options opts = { .timeout_ms = cfg->check_timeout_ms, .allow = nets };
	struct seal_key key;
	char err[512];
	PGresult *res = NULL;
	int rc = 1, curl_ready = 0;

	if (argc > 1) {
		fprintf(stderr, "usage: imagereg check [ID]\n");
		return 2;
	}
	if (regcheck_nets_parse(cfg->check_allow_networks, nets, REGCHECK_MAX_NETS, &opts.nallow,
				err, sizeof err) < 0) {
		fprintf(stderr, "imagereg: check_allow_networks (IMAGEREG_CHECK_ALLOW_NETWORKS): %s\n", err);
		return 1;
	}
	if (seal_key_load(cfg->key_file, &key, err, sizeof err) < 0) {
		fprintf(stderr, "imagereg: %s\n", err);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "imagereg: cannot initialise libcurl\n");
		goto out;
	}
	curl_ready = 1;
	const char *p[] = { argc == 1 ? argv[0] : NULL };
	res = argc == 1
		? admin_query(conn, "SELECT " CHECK_COLUMNS " FROM registry WHERE id = $1", 1, p)
		: admin_query(conn, "SELECT " CHECK_COLUMNS " FROM registry ORDER BY created_at, id", 0, NULL);
	if (res == NULL)
		goto out;
	if (argc == 1 && PQntuples(res) == 0) {
		fprintf(stderr, "imagereg: no registry %s\n", argv[0]);
		goto out;
	}
	rc = 0;
	for (int i = 0; i < PQntuples(res); i++)
		rc |= check_row(res, i, &key, &opts);
out:
	PQclear(res);
	if (curl_ready)
		curl_global_cleanup();
	seal_key_clear(&key);
	return rc;
}
