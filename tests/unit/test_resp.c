/* test_resp.c - the response writer and the dispatcher's checks, through an in-memory struct req_io. */
#include "config.h"
#include "app.h"
#include "check.h"
#include "log.h"
#include "resp.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COLL "/openapi/system/registry"
#define ID "0123456789abcdef01234567"
#define ITEM COLL "/" ID
#define JSON_CT "application/json; charset=utf-8"

/*
 * The transport a test controls: CGI parameters from a table, the body from a
 * buffer (optionally in small pieces or failing), the response into a buffer.
 * It records how often read was called and how many body bytes were taken.
 */
struct fake {
	const char *params[8];       /* NAME, value, NAME, value, ..., NULL */
	const char *body;
	size_t body_len;
	size_t pos;                  /* body bytes handed out so far */
	int chunk;                   /* most bytes per read; 0 for all asked */
	int read_fail;               /* read returns -1 */
	int write_fail;              /* write returns -1 */
	int reads;                   /* read calls */
	int writes;                  /* write calls */
	int ends;                    /* end calls */
	int writes_after_end;        /* write calls after the first end */
	long stderr_at_end;          /* fd 2's offset at the first end (the log written so far) */
	char out[16384];
	size_t out_len;
	int overflow;                /* the response did not fit in out */
};

static const char *fake_param(void *ctx, const char *name)
{
	struct fake *f = ctx;

	for (size_t i = 0; f->params[i] != NULL; i += 2)
		if (strcmp(f->params[i], name) == 0)
			return f->params[i + 1];
	return NULL;
}

static int fake_read(void *ctx, char *buf, int n)
{
	struct fake *f = ctx;
	size_t take = (size_t)n;

	f->reads++;
	if (f->read_fail)
		return -1;
	if (take > f->body_len - f->pos)
		take = f->body_len - f->pos;
	if (f->chunk > 0 && take > (size_t)f->chunk)
		take = (size_t)f->chunk;
	memcpy(buf, f->body + f->pos, take);
	f->pos += take;
	return (int)take;
}

static int fake_write(void *ctx, const char *buf, int n)
{
	struct fake *f = ctx;

	f->writes++;
	if (f->ends > 0)
		f->writes_after_end++;
	if (f->write_fail)
		return -1;
	if (n < 0 || (size_t)n > sizeof f->out - f->out_len) {
		f->overflow = 1;
		return -1;
	}
	memcpy(f->out + f->out_len, buf, (size_t)n);
	f->out_len += (size_t)n;
	return n;
}

static int fake_end(void *ctx)
{
	struct fake *f = ctx;

	if (f->ends++ == 0)
		f->stderr_at_end = (long)lseek(STDERR_FILENO, 0, SEEK_CUR);
	return f->write_fail ? -1 : 0;
}

static void fake_io(struct fake *f, struct req_io *io)
{
	io->param = fake_param;
	io->read = fake_read;
	io->write = fake_write;
	io->end = fake_end;
	io->ctx = f;
}

/* No database, no key, no authentication: only checks made before a handler run. */
static const struct config no_auth = { .auth_required = 0 };   /* max_body 0: the default */
static const struct app no_db = { .cfg = &no_auth, .db = NULL, .key = NULL };

/* A request context as app_handle makes one, for calling resp_* directly. */
static void fake_req(struct req *r, const struct req_io *io)
{
	memset(r, 0, sizeof *r);
	r->io = io;
	r->method = "GET";
	r->path = "/test";
}

/*
 * Checks that f->out is exactly one response: the fixed head for status with
 * extra (complete header lines or ""), a blank line, and a body of exactly
 * Content-Length bytes.  Returns a malloc'd copy of the body, or NULL.
 */
static char *check_head(const char *name, const struct fake *f, int status, const char *extra)
{
	char want[1024];
	const char *end;
	size_t head_len, body_len;
	char *body;

	if (!CHECK(!f->overflow, "%s: response fits the buffer", name))
		return NULL;
	end = NULL;
	/* The head ends at the first blank line. */
	for (size_t i = 0; i + 4 <= f->out_len; i++)
		if (memcmp(f->out + i, "\r\n\r\n", 4) == 0) {
			end = f->out + i + 4;
			break;
		}
	if (!CHECK(end != NULL, "%s: a blank line ends the head: \"%.*s\"", name, (int)f->out_len, f->out))
		return NULL;
	head_len = (size_t)(end - f->out);
	body_len = f->out_len - head_len;
	snprintf(want, sizeof want,
		 "Status: %d %s\r\n"
		 "Content-Type: " JSON_CT "\r\n"
		 "Content-Length: %zu\r\n"
		 "Cache-Control: no-store\r\n"
		 "X-Content-Type-Options: nosniff\r\n"
		 "%s\r\n",
		 status, resp_reason(status), body_len, extra);
	/* Content-Length in want is the count of bytes after the head, so this checks it too. */
	CHECK(head_len == strlen(want) && memcmp(f->out, want, head_len) == 0,
	      "%s: head is\n%.*s\nwant\n%s", name, (int)head_len, f->out, want);
	body = malloc(body_len + 1);
	if (body == NULL)
		return NULL;
	memcpy(body, end, body_len);
	body[body_len] = '\0';
	return body;
}

/*
 * Checks body is Zadig's error for status, keys in this order:
 * {"type":"error","code":N,"message":reason,"description":...,"extra":{}},
 * and that the description contains desc.
 */
static void check_error_body(const char *name, const char *body, int status, const char *desc)
{
	static const char *const keys[] = { "type", "code", "message", "description", "extra" };
	struct json_object *obj = json_tokener_parse(body);
	size_t k = 0;
	int order = 1;

	if (!CHECK(json_object_is_type(obj, json_type_object), "%s: body is a JSON object: %s", name, body)) {
		json_object_put(obj);
		return;
	}
	json_object_object_foreach(obj, key, val) {
		(void)val;
		order &= k < sizeof keys / sizeof keys[0] && strcmp(key, keys[k]) == 0;
		k++;
	}
	CHECK(order && k == sizeof keys / sizeof keys[0], "%s: keys type, code, message, description, extra: %s",
	      name, body);
	{
		struct json_object *type = json_object_object_get(obj, "type");
		struct json_object *code = json_object_object_get(obj, "code");
		struct json_object *message = json_object_object_get(obj, "message");
		struct json_object *description = json_object_object_get(obj, "description");
		struct json_object *extra = json_object_object_get(obj, "extra");

		CHECK(json_object_is_type(type, json_type_string) &&
		      strcmp(json_object_get_string(type), "error") == 0, "%s: type is \"error\"", name);
		CHECK(json_object_is_type(code, json_type_int) && json_object_get_int(code) == status,
		      "%s: code is %d: %s", name, status, body);
		CHECK(json_object_is_type(message, json_type_string) &&
		      strcmp(json_object_get_string(message), resp_reason(status)) == 0,
		      "%s: message is \"%s\": %s", name, resp_reason(status), body);
		CHECK(json_object_is_type(description, json_type_string) &&
		      strstr(json_object_get_string(description), desc) != NULL,
		      "%s: description contains \"%s\": %s", name, desc, body);
		CHECK(json_object_is_type(extra, json_type_object) && json_object_object_length(extra) == 0,
		      "%s: extra is {}: %s", name, body);
	}
	json_object_put(obj);
}

/* resp_reason: one row per status the service sends, and the fallback. */
static const struct reason_case {
	int status;
	const char *want;
} reason_cases[] = {
	{ 200, "OK" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 412, "Precondition Failed" },
	{ 413, "Payload Too Large" },
	{ 422, "Unprocessable Content" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
	/* A status missing from the table reads as a server error, never as NULL. */
	{ 418, "Internal Server Error" },
	{ 0, "Internal Server Error" },
	{ -1, "Internal Server Error" },
};

static void test_reason(void)
{
	for (size_t i = 0; i < sizeof reason_cases / sizeof reason_cases[0]; i++)
		CHECK_STR(resp_reason(reason_cases[i].status), reason_cases[i].want, "resp_reason(%d)",
			  reason_cases[i].status);
}

/* resp_error and resp_error_h: the exact bytes of the body. */
static const struct error_case {
	const char *name;
	int status;
	const char *extra;       /* NULL: resp_error; otherwise resp_error_h with these lines */
	const char *description; /* passed as "%s" */
	const char *want_body;
} error_cases[] = {
	{ "400", 400, NULL, "bad id",
	  "{\"type\":\"error\",\"code\":400,\"message\":\"Bad Request\",\"description\":\"bad id\",\"extra\":{}}" },
	{ "404", 404, NULL, "no such endpoint",
	  "{\"type\":\"error\",\"code\":404,\"message\":\"Not Found\",\"description\":\"no such endpoint\",\"extra\":{}}" },
	{ "413", 413, NULL, "too big",
	  "{\"type\":\"error\",\"code\":413,\"message\":\"Payload Too Large\",\"description\":\"too big\",\"extra\":{}}" },
	{ "500", 500, NULL, "internal error",
	  "{\"type\":\"error\",\"code\":500,\"message\":\"Internal Server Error\",\"description\":\"internal error\","
	  "\"extra\":{}}" },
	{ "503", 503, NULL, "database unavailable",
	  "{\"type\":\"error\",\"code\":503,\"message\":\"Service Unavailable\",\"description\":\"database unavailable\","
	  "\"extra\":{}}" },
	{ "405 with Allow", 405, "Allow: GET, POST\r\n", "method not allowed",
	  "{\"type\":\"error\",\"code\":405,\"message\":\"Method Not Allowed\",\"description\":\"method not allowed\","
	  "\"extra\":{}}" },
	{ "401 with two extra lines", 401, "WWW-Authenticate: Bearer\r\nVary: Authorization\r\n", "no token",
	  "{\"type\":\"error\",\"code\":401,\"message\":\"Unauthorized\",\"description\":\"no token\",\"extra\":{}}" },
	{ "resp_error_h with no extra lines", 403, "", "forbidden",
	  "{\"type\":\"error\",\"code\":403,\"message\":\"Forbidden\",\"description\":\"forbidden\",\"extra\":{}}" },
	{ "empty description", 400, NULL, "",
	  "{\"type\":\"error\",\"code\":400,\"message\":\"Bad Request\",\"description\":\"\",\"extra\":{}}" },
	{ "quotes and backslash escaped, slash not", 400, NULL, "say \"hi\" \\ a/b",
	  "{\"type\":\"error\",\"code\":400,\"message\":\"Bad Request\",\"description\":\"say \\\"hi\\\" \\\\ a/b\","
	  "\"extra\":{}}" },
	{ "control characters escaped", 400, NULL, "a\nb\tc\x01",
	  "{\"type\":\"error\",\"code\":400,\"message\":\"Bad Request\",\"description\":\"a\\nb\\tc\\u0001\","
	  "\"extra\":{}}" },
	{ "UTF-8 passed through", 400, NULL, "caf\xc3\xa9",
	  "{\"type\":\"error\",\"code\":400,\"message\":\"Bad Request\",\"description\":\"caf\xc3\xa9\",\"extra\":{}}" },
	{ "percent signs are data, not format", 400, NULL, "100%s %d",
	  "{\"type\":\"error\",\"code\":400,\"message\":\"Bad Request\",\"description\":\"100%s %d\",\"extra\":{}}" },
};

static void test_error(void)
{
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct error_case *c = &error_cases[i];
		struct fake f = { .params = { NULL } };
		struct req_io io;
		struct req r;
		char *body;

		fake_io(&f, &io);
		fake_req(&r, &io);
		if (c->extra == NULL)
			resp_error(&r, c->status, "%s", c->description);
		else
			resp_error_h(&r, c->status, c->extra, "%s", c->description);
		CHECK(r.status == c->status, "error %s: r.status %d, want %d", c->name, r.status, c->status);
		body = check_head(c->name, &f, c->status, c->extra ? c->extra : "");
		if (body != NULL)
			CHECK_STR(body, c->want_body, "error %s: body", c->name);
		free(body);
	}
}

/* resp_json: any JSON value, not consumed, sent as compact JSON with "/" unescaped. */
static const struct json_case {
	const char *name;
	int status;
	const char *extra;
	const char *value;       /* parsed into the object handed to resp_json */
	const char *want_body;
} json_cases[] = {
	{ "object", 200, NULL, "{ \"message\" : \"success\", \"registry_id\" : \"" ID "\" }",
	  "{\"message\":\"success\",\"registry_id\":\"" ID "\"}" },
	{ "empty array", 200, NULL, "[ ]", "[]" },
	{ "array of objects keeps order", 200, NULL,
	  "[{\"address\":\"https://h/v2\",\"is_default\":true},{\"address\":\"http://x\",\"is_default\":false}]",
	  "[{\"address\":\"https://h/v2\",\"is_default\":true},{\"address\":\"http://x\",\"is_default\":false}]" },
	{ "slashes not escaped", 200, NULL, "{\"a\":\"https://h/x\"}", "{\"a\":\"https://h/x\"}" },
	{ "extra header line", 200, "X-Test: 1\r\n", "{}", "{}" },
	{ "error status with any object", 404, NULL, "{\"x\":null}", "{\"x\":null}" },
};

static void test_json(void)
{
	for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
		const struct json_case *c = &json_cases[i];
		struct fake f = { .params = { NULL } };
		struct json_object *obj = json_tokener_parse(c->value);
		struct req_io io;
		struct req r;
		char *body;

		if (!CHECK(obj != NULL, "json %s: test value parses", c->name))
			continue;
		fake_io(&f, &io);
		fake_req(&r, &io);
		resp_json(&r, c->status, c->extra, obj);
		CHECK(r.status == c->status, "json %s: r.status", c->name);
		body = check_head(c->name, &f, c->status, c->extra ? c->extra : "");
		if (body != NULL)
			CHECK_STR(body, c->want_body, "json %s: body", c->name);
		free(body);
		/* Still ours: putting it must be the last reference (LeakSanitizer sees a leak otherwise). */
		CHECK(json_object_put(obj) == 1, "json %s: resp_json did not consume the object", c->name);
	}
}

static void test_success(void)
{
	struct fake f = { .params = { NULL } };
	struct req_io io;
	struct req r;
	char *body;

	fake_io(&f, &io);
	fake_req(&r, &io);
	resp_success(&r);
	CHECK(r.status == 200, "success: status 200");
	body = check_head("success", &f, 200, "");
	if (body != NULL)
		CHECK_STR(body, "{\"message\":\"success\"}", "success: body");
	free(body);
}

/* Only the first response of a request goes out; the others are dropped whole. */
static const struct twice_case {
	const char *name;
	int first;               /* 0: resp_success; otherwise resp_error with this status */
	int second;
} twice_cases[] = {
	{ "error then success", 400, 0 },
	{ "success then error", 0, 500 },
	{ "error then error", 404, 500 },
	{ "success then success", 0, 0 },
};

static void send_one(struct req *r, int status)
{
	if (status == 0)
		resp_success(r);
	else
		resp_error(r, status, "response %d", status);
}

static void test_twice(void)
{
	for (size_t i = 0; i < sizeof twice_cases / sizeof twice_cases[0]; i++) {
		const struct twice_case *c = &twice_cases[i];
		struct fake once = { .params = { NULL } }, twice = { .params = { NULL } };
		struct req_io io1, io2;
		struct req r1, r2;

		fake_io(&once, &io1);
		fake_req(&r1, &io1);
		send_one(&r1, c->first);
		fake_io(&twice, &io2);
		fake_req(&r2, &io2);
		send_one(&r2, c->first);
		send_one(&r2, c->second);
		CHECK(r2.status == (c->first ? c->first : 200), "twice %s: status stays the first", c->name);
		CHECK(twice.out_len == once.out_len && memcmp(twice.out, once.out, once.out_len) == 0,
		      "twice %s: output is the first response alone:\n%.*s", c->name, (int)twice.out_len, twice.out);
		CHECK(twice.writes == once.writes, "twice %s: no write for the second", c->name);
	}
}

/* A client that went away: the write fails, the request still counts as answered. */
static void test_write_fails(void)
{
	struct fake f = { .params = { NULL }, .write_fail = 1 };
	struct req_io io;
	struct req r;

	fake_io(&f, &io);
	fake_req(&r, &io);
	resp_error(&r, 400, "x");
	CHECK(r.status == 400, "write fails: status recorded");
	CHECK(f.writes >= 1, "write fails: write was tried");
	resp_success(&r);
	CHECK(f.writes == 1, "write fails: no further writes after the failed head (%d)", f.writes);
}

/* A path whose id segment is 1000 characters, filled in by main. */
static char long_id_path[sizeof COLL + 1 + 1000];

/*
 * app_handle with db == NULL: every row is answered before a handler could
 * touch the database (routing, id shape, Content-Length, body JSON).
 */
static const struct app_case {
	const char *name;
	const char *method;          /* NULL: REQUEST_METHOD absent */
	const char *path;            /* NULL: PATH_INFO absent */
	const char *length;          /* NULL: CONTENT_LENGTH absent */
	const char *body;
	size_t body_len;
	int chunk;
	int read_fail;
	int status;
	const char *desc;            /* substring of the description */
	const char *extra;           /* header lines after the fixed ones */
	int reads;                   /* read calls; -1 for any */
	long consumed;               /* body bytes taken; -1 for any */
} app_cases[] = {
#define BODY(lit) lit, sizeof(lit) - 1
#define NOBODY NULL, 0
	/* Routing. */
	{ "GET / is 404", "GET", "/", NULL, NOBODY, 0, 0, 404, "no such endpoint", "", 0, 0 },
	{ "PATH_INFO absent is 404", "GET", NULL, NULL, NOBODY, 0, 0, 404, "no such endpoint", "", 0, 0 },
	{ "PATH_INFO empty is 404", "GET", "", NULL, NOBODY, 0, 0, 404, "no such endpoint", "", 0, 0 },
	{ "GET /openapi is 404", "GET", "/openapi", NULL, NOBODY, 0, 0, 404, "no such endpoint", "", 0, 0 },
	{ "collection with trailing slash is 404", "GET", COLL "/", NULL, NOBODY, 0, 0, 404, "no such endpoint", "",
	  0, 0 },
	{ "item with an extra segment is 404", "DELETE", ITEM "/extra", NULL, NOBODY, 0, 0, 404, "no such endpoint",
	  "", 0, 0 },
	{ "POST to an unknown path: 404 before the body", "POST", COLL "/", "1048577", BODY("{}"), 0, 0, 404,
	  "no such endpoint", "", 0, 0 },
	{ "PATCH on the collection is 405", "PATCH", COLL, NULL, NOBODY, 0, 0, 405, "allowed: GET, POST",
	  "Allow: GET, POST\r\n", 0, 0 },
	{ "DELETE on the collection is 405", "DELETE", COLL, NULL, NOBODY, 0, 0, 405, "allowed: GET, POST",
	  "Allow: GET, POST\r\n", 0, 0 },
	{ "POST on an item is 405", "POST", ITEM, "2", BODY("{}"), 0, 0, 405, "allowed: GET, PUT, DELETE",
	  "Allow: GET, PUT, DELETE\r\n", 0, 0 },
	{ "lower-case get is 405", "get", COLL, NULL, NOBODY, 0, 0, 405, "method not allowed",
	  "Allow: GET, POST\r\n", 0, 0 },
	{ "REQUEST_METHOD absent is 405", NULL, COLL, NULL, NOBODY, 0, 0, 405, "method not allowed",
	  "Allow: GET, POST\r\n", 0, 0 },
	{ "HEAD on an item is 405", "HEAD", ITEM, NULL, NOBODY, 0, 0, 405, "method not allowed",
	  "Allow: GET, PUT, DELETE\r\n", 0, 0 },

	/* Malformed ids: 400 before any query, and before the body is read. */
	{ "GET non-hex id", "GET", COLL "/not-an-id", NULL, NOBODY, 0, 0, 400, "invalid registry id", "", 0, 0 },
	{ "GET upper-case id", "GET", COLL "/0123456789ABCDEF01234567", NULL, NOBODY, 0, 0, 400,
	  "invalid registry id", "", 0, 0 },
	{ "GET 23-character id", "GET", COLL "/0123456789abcdef0123456", NULL, NOBODY, 0, 0, 400,
	  "invalid registry id", "", 0, 0 },
	{ "GET 25-character id", "GET", COLL "/0123456789abcdef012345678", NULL, NOBODY, 0, 0, 400,
	  "invalid registry id", "", 0, 0 },
	{ "GET 1000-character hex id", "GET", long_id_path, NULL, NOBODY, 0, 0, 400, "invalid registry id", "", 0,
	  0 },
	{ "DELETE non-hex id", "DELETE", COLL "/zzzzzzzzzzzzzzzzzzzzzzzz", NULL, NOBODY, 0, 0, 400,
	  "invalid registry id", "", 0, 0 },
	{ "DELETE 1000-character hex id", "DELETE", long_id_path, NULL, NOBODY, 0, 0, 400, "invalid registry id", "",
	  0, 0 },
	{ "PUT bad id with a body: body not read", "PUT", COLL "/xyz", "2", BODY("{}"), 0, 0, 400,
	  "invalid registry id", "", 0, 0 },
	{ "PUT bad id with a huge Content-Length: id first", "PUT", COLL "/xyz", "1048577", BODY("{}"), 0, 0, 400,
	  "invalid registry id", "", 0, 0 },
	{ "PUT 1000-character hex id", "PUT", long_id_path, "2", BODY("{}"), 0, 0, 400, "invalid registry id", "", 0,
	  0 },

	/* Content-Length: checked before a byte is read. */
	{ "POST 1048577 bytes is 413 unread", "POST", COLL, "1048577", BODY("{}"), 0, 0, 413,
	  "larger than 1048576 bytes", "", 0, 0 },
	{ "PUT 1048577 bytes is 413 unread", "PUT", ITEM, "1048577", BODY("{}"), 0, 0, 413,
	  "larger than 1048576 bytes", "", 0, 0 },
	{ "POST 10^12 bytes is 413 unread", "POST", COLL, "1000000000000", BODY("{}"), 0, 0, 413,
	  "larger than 1048576 bytes", "", 0, 0 },
	{ "Content-Length abc", "POST", COLL, "abc", BODY("{}"), 0, 0, 400, "Content-Length is not a valid number",
	  "", 0, 0 },
	{ "Content-Length -1", "POST", COLL, "-1", BODY("{}"), 0, 0, 400, "Content-Length is not a valid number", "",
	  0, 0 },
	{ "Content-Length +2", "POST", COLL, "+2", BODY("{}"), 0, 0, 400, "Content-Length is not a valid number", "",
	  0, 0 },
	{ "Content-Length with a leading space", "POST", COLL, " 2", BODY("{}"), 0, 0, 400,
	  "Content-Length is not a valid number", "", 0, 0 },
	{ "Content-Length with a trailing space", "POST", COLL, "2 ", BODY("{}"), 0, 0, 400,
	  "Content-Length is not a valid number", "", 0, 0 },
	{ "Content-Length 2.0", "POST", COLL, "2.0", BODY("{}"), 0, 0, 400, "Content-Length is not a valid number",
	  "", 0, 0 },
	{ "Content-Length 0x10", "POST", COLL, "0x10", BODY("{}"), 0, 0, 400, "Content-Length is not a valid number",
	  "", 0, 0 },
	{ "Content-Length beyond long long", "POST", COLL, "99999999999999999999", BODY("{}"), 0, 0, 400,
	  "Content-Length is not a valid number", "", 0, 0 },
	{ "PUT Content-Length abc", "PUT", ITEM, "abc", BODY("{}"), 0, 0, 400, "Content-Length is not a valid number",
	  "", 0, 0 },

	/* The body itself. */
	{ "Content-Length larger than the body", "POST", COLL, "10", BODY("{}"), 0, 0, 400,
	  "shorter than its Content-Length", "", -1, 2 },
	{ "Content-Length 1048576 is allowed, body shorter", "POST", COLL, "1048576", BODY("{}"), 0, 0, 400,
	  "shorter than its Content-Length", "", -1, 2 },
	{ "read error", "POST", COLL, "2", BODY("{}"), 0, 1, 400, "shorter than its Content-Length", "", -1, 0 },
	{ "PUT body shorter than Content-Length", "PUT", ITEM, "100", BODY("{\"address\":"), 0, 0, 400,
	  "shorter than its Content-Length", "", -1, 11 },
	{ "no Content-Length, no body", "POST", COLL, NULL, NOBODY, 0, 0, 400, "JSON", "", -1, 0 },
	{ "Content-Length 0", "POST", COLL, "0", NOBODY, 0, 0, 400, "JSON", "", -1, 0 },
	{ "invalid JSON", "POST", COLL, "3", BODY("{x}"), 0, 0, 400, "not valid JSON", "", -1, 3 },
	{ "PUT invalid JSON", "PUT", ITEM, "3", BODY("{x}"), 0, 0, 400, "not valid JSON", "", -1, 3 },
	{ "top-level array", "POST", COLL, "5", BODY("[1,2]"), 0, 0, 400, "JSON object", "", -1, 5 },
	{ "body read one byte at a time", "POST", COLL, "5", BODY("[1,2]"), 1, 0, 400, "JSON object", "", 5, 5 },
	{ "only Content-Length bytes are read", "POST", COLL, "1", BODY("[]"), 0, 0, 400, "JSON", "", -1, 1 },
	{ "invalid UTF-8 body", "POST", COLL, "10", BODY("{\"a\":\"\xc0\xaf\"}"), 0, 0, 400, "UTF-8", "", -1, -1 },
	{ "NUL byte in the body", "POST", COLL, "9", BODY("{\"a\":\"\0\"}"), 0, 0, 400, "JSON", "", -1, 9 },
	{ "nesting too deep", "POST", COLL, "36", BODY("[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]"), 0, 0, 400,
	  "nests deeper than 16 levels", "", -1, 36 },
#undef BODY
#undef NOBODY
};

/*
 * Runs app_handle with the log at info level and fd 2 in a temporary file;
 * returns the status its access line names ("METHOD PATH STATUS NNNus
 * ACTOR", the last info line written), or -1 when there is none, and that
 * line's offset in *line_at.
 */
static int handle_and_read_access_status(const struct req_io *io, long *line_at)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), status = -1;
	char line[2048];

	*line_at = -1;
	if (tmp == NULL || saved < 0 || dup2(fileno(tmp), STDERR_FILENO) < 0) {
		if (tmp != NULL)
			fclose(tmp);
		if (saved >= 0)
			close(saved);
		app_handle(io, &no_db);
		return -1;
	}
	log_set_level(LOG_INFO);
	app_handle(io, &no_db);
	log_set_level(LOG__MAX);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	for (long at = 0; fgets(line, sizeof line, tmp) != NULL; at = ftell(tmp)) {
		const char *msg = strstr(line, " info imagereg[");
		const char *us = msg != NULL ? strstr(msg, "us ") : NULL;
		const char *p = us;

		/* The status is the number before the duration: " STATUS DIGITSus ". */
		while (p != NULL && p > msg && p[-1] >= '0' && p[-1] <= '9')
			p--;
		if (p != NULL && p > msg + 4 && p[-1] == ' ') {
			status = (int)strtol(p - 4, NULL, 10);
			*line_at = at;
		}
	}
	fclose(tmp);
	return status;
}

static void test_app(void)
{
	for (size_t i = 0; i < sizeof app_cases / sizeof app_cases[0]; i++) {
		const struct app_case *c = &app_cases[i];
		struct fake f = { .params = { NULL } };
		struct req_io io;
		size_t n = 0;
		char *body;

		if (c->method != NULL) {
			f.params[n++] = "REQUEST_METHOD";
			f.params[n++] = c->method;
		}
		if (c->path != NULL) {
			f.params[n++] = "PATH_INFO";
			f.params[n++] = c->path;
		}
		if (c->length != NULL) {
			f.params[n++] = "CONTENT_LENGTH";
			f.params[n++] = c->length;
		}
		f.params[n] = NULL;
		f.body = c->body;
		f.body_len = c->body_len;
		f.chunk = c->chunk;
		f.read_fail = c->read_fail;
		fake_io(&f, &io);
		long line_at;
		int logged = handle_and_read_access_status(&io, &line_at);

		CHECK(logged == c->status, "%s: access line says %d, the response %d", c->name, logged, c->status);
		/* Ended once, after the last write; the access line is there when the client has the answer. */
		CHECK(f.ends == 1 && f.writes_after_end == 0, "%s: the response ended %d times, %d writes after",
		      c->name, f.ends, f.writes_after_end);
		CHECK(line_at >= 0 && line_at < f.stderr_at_end,
		      "%s: the access line (at %ld) was not yet in the log when the response ended (log at %ld then)",
		      c->name, line_at, f.stderr_at_end);
		if (c->reads >= 0)
			CHECK(f.reads == c->reads, "%s: read called %d times, want %d", c->name, f.reads, c->reads);
		if (c->consumed >= 0)
			CHECK(f.pos == (size_t)c->consumed, "%s: %zu body bytes read, want %ld", c->name, f.pos,
			      c->consumed);
		body = check_head(c->name, &f, c->status, c->extra);
		if (body != NULL)
			check_error_body(c->name, body, c->status, c->desc);
		free(body);
	}
}

int main(void)
{
	/* The tests provoke "bug:" lines and one access line per request on purpose; keep stderr quiet. */
	log_set_level(LOG__MAX);
	memcpy(long_id_path, COLL "/", sizeof COLL);
	memset(long_id_path + sizeof COLL, 'a', 1000);
	long_id_path[sizeof long_id_path - 1] = '\0';

	test_reason();
	test_error();
	test_json();
	test_success();
	test_twice();
	test_write_fails();
	test_app();
	return check_done();
}
