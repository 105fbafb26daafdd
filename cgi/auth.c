/* auth.c - bearer token check, one query per request. */
#include "auth.h"
#include "crypto.h"
#include "db.h"
#include "resp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CHALLENGE "WWW-Authenticate: Bearer realm=\"imagereg\"\r\n"

/* The token of "Bearer <token>", or NULL; *len gets its length. */
static const char *bearer_token(const char *header, size_t *len)
{
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	*len = strcspn(header, " \t");
	return *len > 0 ? header : NULL;
}

int auth_check(struct req *r, int wants_write)
{
	char hash[2 + 2 * SHA256_BYTES + 1];
	size_t len = 0;
	const char *token = bearer_token(r->io->param(r->io->ctx, "HTTP_AUTHORIZATION"), &len);
	PGresult *res;
	int rc = -1;

	if (token == NULL) {
		resp_error_h(r, 401, CHALLENGE, "missing bearer token: send Authorization: Bearer <token>");
		return -1;
	}
	/* The token never goes to the database or a log: only its hash does. */
	token_hash_bytea(token, len, hash);
	const char *params[] = { hash };
	res = db_exec(r->db, STMT_TOKEN_CHECK, params);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		resp_error(r, 503, "database unavailable, try again later");
		goto out;
	}
	if (PQntuples(res) == 0) {
		resp_error_h(r, 401, CHALLENGE, "invalid or revoked token");
		goto out;
	}
	snprintf(r->actor, sizeof r->actor, "%s", PQgetvalue(res, 0, 0));
	if (wants_write && strcmp(PQgetvalue(res, 0, 1), "write") != 0) {
		resp_error(r, 403, "token %s has read scope; this request needs a write token", r->actor);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}
