/* app.c - the dispatcher: central checks before any handler runs. */
#include "app.h"
#include "config.h"
#include "auth.h"
#include "cache.h"
#include "clock.h"
#include "log.h"
#include "resp.h"
#include "routes.h"
#include "validate.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* CONTENT_LENGTH as a number: -1 when malformed, 0 when absent. */
static long long content_length(const char *s)
{
	char *end;
	long long n;

	if (s == NULL || *s == '\0')
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return n;
}

/* Reads and parses the body; on failure replies and returns -1. */
static int read_body(struct req *r)
{
	long long len = content_length(r->io->param(r->io->ctx, "CONTENT_LENGTH"));
	char err[256];
	char *buf;
	long long got = 0;

	if (len < 0) {
		resp_error(r, 400, "Content-Length is not a valid number");
		return -1;
	}
	/* Refused before reading a byte, so a huge body costs us nothing. */
	int max_body = r->cfg->max_body > 0 ? r->cfg->max_body : MAX_BODY_BYTES;

	if (len > max_body) {
		resp_error(r, 413, "request body is larger than %d bytes", max_body);
		return -1;
	}
	buf = malloc((size_t)len + 1);
	if (buf == NULL) {
		resp_error(r, 500, "out of memory reading the request body");
		return -1;
	}
	while (got < len) {
		int n = r->io->read(r->io->ctx, buf + got, (int)(len - got));

		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	if (got < len) {
		explicit_bzero(buf, (size_t)got);
		free(buf);
		resp_error(r, 400, "request body is shorter than its Content-Length");
		return -1;
	}
	r->body = body_parse(buf, (size_t)got, err, sizeof err);
	/* The raw body holds any credentials it sent. */
	explicit_bzero(buf, (size_t)got);
	free(buf);
	if (r->body == NULL) {
		resp_error(r, 400, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * 1 when the path as the client sent it (REQUEST_URI, before the server
 * decoded and normalised it into PATH_INFO) has an encoded slash, an encoded
 * dot or NUL, or a dot segment: such a path names one resource to a proxy and
 * another to us, so it is refused rather than guessed at.
 */
static int raw_path_suspicious(const char *uri)
{
	size_t len;

	if (uri == NULL)
		return 0;
	len = strcspn(uri, "?#");
	for (size_t i = 0; i < len; i++) {
		if (uri[i] == '%' && i + 2 < len) {
			char a = uri[i + 1], b = (char)(uri[i + 2] | 0x20);

			if ((a == '2' && (b == 'f' || b == 'e')) || (a == '0' && b == '0') ||
			    (a == '5' && b == 'c'))
				return 1;
		}
		if (uri[i] == '/' && uri[i + 1] == '.' &&
		    (i + 2 >= len || uri[i + 2] == '/' ||
		     (uri[i + 2] == '.' && (i + 3 >= len || uri[i + 3] == '/'))))
			return 1;
	}
	return 0;
}

/* 1 when origin is one of the space-separated allowed origins, exactly. */
static int origin_allowed(const char *allowed, const char *origin)
{
	size_t n = strlen(origin);

	if (allowed == NULL || n == 0 || strpbrk(origin, "\r\n ") != NULL || n > 200)
		return 0;
	for (const char *a = allowed; *a != '\0';) {
		size_t len = strcspn(a, " \t");

		if (len == n && memcmp(a, origin, n) == 0)
			return 1;
		a += len;
		a += strspn(a, " \t");
	}
	return 0;
}

/*
 * A CORS preflight (OPTIONS with Access-Control-Request-Method from an
 * allowed origin, on a known path): answered 204 without a token, as browsers
 * send none.  Returns 1 when it answered.
 */
static int preflight(struct req *r, const char *allow)
{
	char headers[256];

	if (r->cors[0] == '\0' || strcmp(r->method, "OPTIONS") != 0 ||
	    r->io->param(r->io->ctx, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") == NULL)
		return 0;
	snprintf(headers, sizeof headers,
		 "Access-Control-Allow-Methods: %s\r\n"
		 "Access-Control-Allow-Headers: Authorization, Content-Type, If-Match, Idempotency-Key\r\n"
		 "Access-Control-Max-Age: 600\r\n", allow);
	resp_empty(r, 204, headers);
	return 1;
}

/*
 * Who is calling, into r->actor: nobody for public routes, the token's name
 * when authentication is on (which may answer 401/403/503 and return -1),
 * else the user nginx authenticated.
 */
static int identify(struct req *r, const struct app *app, unsigned flags)
{
	if (flags & ROUTE_PUBLIC) {
		snprintf(r->actor, sizeof r->actor, "-");
		return 0;
	}
	if (app->cfg->auth_required)
		return auth_check(r, (flags & ROUTE_WRITE) != 0);
	const char *user = r->io->param(r->io->ctx, "REMOTE_USER");
	/* nginx's user name goes to the audit trail: whole and UTF-8, or not at all. */
	int usable = user && *user && strlen(user) <= ACTOR_MAX && utf8_valid(user, strlen(user));

	snprintf(r->actor, sizeof r->actor, "%s", usable ? user : "unauthenticated");
	return 0;
}

void app_handle(const struct req_io *io, const struct app *app)
{
	struct req r = { .io = io, .db = app->db, .cache = app->cache, .key = app->key, .cfg = app->cfg,
			 .check_concurrency = app->check_concurrency };
	const struct route *route;
	char id[REGISTRY_ID_LEN + 2], allow[64];
	size_t id_len = 0;
	int64_t start = clock_us();

	r.method = io->param(io->ctx, "REQUEST_METHOD");
	r.path = io->param(io->ctx, "PATH_INFO");
	if (r.method == NULL)
		r.method = "";
	if (r.path == NULL || r.path[0] == '\0')
		r.path = "/";
	const char *origin = io->param(io->ctx, "HTTP_ORIGIN");
	if (origin != NULL && origin_allowed(app->cfg->cors_origins, origin))
		/* A script on another origin reads only the response headers it is told it may. */
		snprintf(r.cors, sizeof r.cors, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
			 "Access-Control-Expose-Headers: ETag, X-Total-Count, Idempotency-Replayed\r\n", origin);
	if (raw_path_suspicious(io->param(io->ctx, "REQUEST_URI"))) {
		resp_error(&r, 400, "path must not contain encoded slashes, encoded dots or dot segments");
		goto out;
	}
	switch (route_find(r.method, r.path, &route, id, sizeof id, &id_len, allow, sizeof allow)) {
	case ROUTE_NO_PATH:
		resp_error(&r, 404, "no such endpoint");
		goto out;
	case ROUTE_NO_METHOD: {
		char header[96];

		if (preflight(&r, allow))
			goto out;
		snprintf(header, sizeof header, "Allow: %s\r\n", allow);
		resp_error_h(&r, 405, header, "method not allowed; allowed: %s", allow);
		goto out;
	}
	case ROUTE_FOUND:
		break;
	}
	/* Ids are checked before any query, so the database never sees junk. */
	if (route->flags & ROUTE_ID) {
		if (!route_id_valid(id, id_len)) {
			resp_error(&r, 400, "invalid registry id: must be 24 lowercase hexadecimal characters");
			goto out;
		}
		memcpy(r.id, id, REGISTRY_ID_LEN + 1);
	}
	/* What other workers and clients changed, before anything is answered from memory. */
	if (!(route->flags & ROUTE_PUBLIC) && app->cache != NULL && cache_sync(app->cache) < 0) {
		resp_error(&r, 503, "database unavailable, try again later");
		goto out;
	}
	/* Before the body is read: strangers cannot make us parse a megabyte. */
	if (identify(&r, app, route->flags) < 0)
		goto out;
	if ((route->flags & ROUTE_BODY) && read_body(&r) < 0)
		goto out;
	route->handler(&r);
	if (r.status == 0) {
		log_error("bug: %s %s sent no response", r.method, r.path);
		resp_error(&r, 500, "internal error");
	}
out:
	body_wipe_secrets(r.body);
	json_object_put(r.body);
	/* The line first: whoever has the answer finds it in the log (README, Performance, cut 3). */
	log_request(r.method, r.path, r.status, clock_us() - start, r.actor);
	if (io->end(io->ctx) < 0)
		log_debug("client went away during the response");
}
