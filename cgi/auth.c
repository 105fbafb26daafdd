/* auth.c - bearer token check, through the worker's token cache. */
#include "auth.h"
#include "crypto.h"
#include "cache.h"
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

	if (token == NULL) {
		resp_error_h(r, 401, CHALLENGE, "missing bearer token: send Authorization: Bearer <token>");
		return -1;
	}
	/* The token never goes to the database, a cache or a log: only its hash does. */
	token_hash_bytea(token, len, hash);
	switch (cache_token(r->cache, hash, r->actor, sizeof r->actor)) {
	case TOKEN_DB_DOWN:
		resp_error(r, 503, "database unavailable, try again later");
		return -1;
	case TOKEN_UNKNOWN:
		resp_error_h(r, 401, CHALLENGE, "invalid or revoked token");
		return -1;
	case TOKEN_READ:
		if (wants_write) {
			resp_error(r, 403, "token %s has read scope; this request needs a write token", r->actor);
			return -1;
		}
		return 0;
	case TOKEN_WRITE:
		break;
	}
	return 0;
}
