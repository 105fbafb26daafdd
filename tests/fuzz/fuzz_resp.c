/*
 * fuzz_resp.c - libFuzzer: the dispatcher and the response writer, with no
 * database.
 *
 * Input, first byte op:
 *   op & 0x80 clear - app_handle.  The rest is METHOD \0 PATH \0 LENGTH \0
 *     REMOTE_USER \0 BODY (the body may hold NULs; a field the input ends
 *     before is an absent parameter).  op bit 0: CONTENT_LENGTH is the body's
 *     true length; bit 1: REQUEST_METHOD absent; bit 2: PATH_INFO absent;
 *     bit 3: CONTENT_LENGTH absent; bits 4-5: read chunk 0 (all), 1, 7, 4096;
 *     bit 6: reads fail.
 *     app_handle only answers by itself before a handler runs; handlers need
 *     the database.  So the harness routes first: a POST or PUT that would
 *     reach its handler gets a '}' in front of its body (never valid JSON,
 *     whatever Content-Length cuts), and a GET or DELETE that would reach
 *     one is skipped.
 *   op & 0x80 set - resp_* directly.  Byte 1 picks the status, the rest is
 *     text: the description of resp_error and resp_error_h (always as "%s"),
 *     and, when json-c parses it, the value for resp_json.  op bit 0: the
 *     writes fail.
 */
#include "config.h"
#include "app.h"
#include "fuzz.h"
#include "resp.h"
#include "routes.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_CT "application/json; charset=utf-8"
#define DESC_MAX 511            /* resp.c formats descriptions into 512 bytes */

/* The transport: parameters from a table, body from the input, response into a growing buffer. */
struct fake {
	const char *params[12];      /* NAME, value, ..., NULL */
	const char *body;
	size_t body_len;
	size_t pos;
	int chunk;
	int read_fail;
	int write_fail;
	int writes;
	int ends;                    /* end calls; no write may follow one */
	char *out;
	size_t out_len, out_cap;
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

	ENSURE(n > 0);
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
	ENSURE(n >= 0);
	ENSURE(f->ends == 0);
	if (f->write_fail)
		return -1;
	if (f->out_len + (size_t)n > f->out_cap) {
		size_t cap = (f->out_len + (size_t)n) * 2 + 64;
		char *out = realloc(f->out, cap);

		ENSURE(out != NULL);
		f->out = out;
		f->out_cap = cap;
	}
	memcpy(f->out + f->out_len, buf, (size_t)n);
	f->out_len += (size_t)n;
	return n;
}

static int fake_end(void *ctx)
{
	struct fake *f = ctx;

	f->ends++;
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

/* No database, no key, no authentication. */
static const struct config no_auth = { .auth_required = 0 };   /* max_body 0: the default */
static const struct app no_db = { .cfg = &no_auth, .db = NULL, .key = NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

/*
 * Checks f->out is one response with the fixed head for status plus extra
 * (complete header lines), a blank line and exactly Content-Length body
 * bytes; returns the parsed body (caller puts it).
 */
static struct json_object *check_response(const struct fake *f, int status, const char *extra)
{
	char want[1024];
	const char *end = NULL;
	size_t head_len, body_len;
	struct json_tokener *tok;
	struct json_object *obj;

	ENSURE(f->out_len > 8 && memcmp(f->out, "Status: ", 8) == 0);
	for (size_t i = 0; i + 4 <= f->out_len; i++)
		if (memcmp(f->out + i, "\r\n\r\n", 4) == 0) {
			end = f->out + i + 4;
			break;
		}
	ENSURE(end != NULL);
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
	/* Content-Length in want counts the bytes after the head, so this checks it too. */
	ENSURE(head_len == strlen(want) && memcmp(f->out, want, head_len) == 0);
	tok = json_tokener_new();
	ENSURE(tok != NULL);
	obj = json_tokener_parse_ex(tok, end, (int)body_len);
	if (obj == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
		/* A bare number is complete only once the input is known to end. */
		obj = json_tokener_parse_ex(tok, "", 1);
	} else {
		ENSURE(json_tokener_get_parse_end(tok) == body_len);
	}
	ENSURE(obj != NULL && json_tokener_get_error(tok) == json_tokener_success);
	json_tokener_free(tok);
	return obj;
}

/* Zadig's error shape with code status; returns the description. */
static const char *check_error(struct json_object *obj, int status)
{
	static const char *const keys[] = { "type", "code", "message", "description", "extra" };
	struct json_object *v;
	size_t k = 0;

	ENSURE(json_object_is_type(obj, json_type_object));
	json_object_object_foreach(obj, key, val) {
		(void)val;
		ENSURE(k < sizeof keys / sizeof keys[0] && strcmp(key, keys[k]) == 0);
		k++;
	}
	ENSURE(k == sizeof keys / sizeof keys[0]);
	v = json_object_object_get(obj, "type");
	ENSURE(json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), "error") == 0);
	v = json_object_object_get(obj, "code");
	ENSURE(json_object_is_type(v, json_type_int) && json_object_get_int(v) == status);
	v = json_object_object_get(obj, "message");
	ENSURE(json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), resp_reason(status)) == 0);
	v = json_object_object_get(obj, "extra");
	ENSURE(json_object_is_type(v, json_type_object) && json_object_object_length(v) == 0);
	v = json_object_object_get(obj, "description");
	ENSURE(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static void fake_reset(struct fake *f, int write_fail)
{
	free(f->out);
	memset(f, 0, sizeof *f);
	f->write_fail = write_fail;
}

/* resp_error, resp_error_h and resp_json with fuzzed text and status. */
static void writer(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 200, 204, 400, 401, 403, 404, 405, 413, 500, 503 };
	int write_fail = data[0] & 1;
	int status;
	struct fake f = { .params = { NULL } };
	struct req_io io;
	struct req r;
	char *text;
	size_t text_len;
	struct json_object *obj, *value;
	char err[256];
	int strict;

	if (size < 2)
		return;
	/*
	 * 0xf0 and up: any three-digit status, read from the next bytes (0 is
	 * not one: r->status 0 means "nothing sent yet").
	 */
	if (data[1] >= 0xf0 && size >= 6) {
		uint32_t u;

		memcpy(&u, data + 2, 4);
		status = 100 + (int)(u % 900);
		data += 4;
		size -= 4;
	} else {
		status = statuses[data[1] % (sizeof statuses / sizeof statuses[0])];
	}
	text = malloc(size - 2 + 1);
	ENSURE(text != NULL);
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	text_len = strlen(text);
	fake_io(&f, &io);

	/* resp_error: the description is the text up to its first NUL, cut at DESC_MAX bytes. */
	for (int with_header = 0; with_header <= 1; with_header++) {
		const char *extra = with_header ? "Allow: GET, POST\r\n" : "";

		fake_reset(&f, write_fail);
		memset(&r, 0, sizeof r);
		r.io = &io;
		r.method = "GET";
		r.path = "/fuzz";
		if (with_header)
			resp_error_h(&r, status, extra, "%s", text);
		else
			resp_error(&r, status, "%s", text);
		ENSURE(r.status == status);
		/* A second answer to the same request is dropped. */
		resp_error(&r, status == 500 ? 400 : 500, "second");
		ENSURE(r.status == status);
		if (write_fail) {
			ENSURE(f.out_len == 0);
			continue;
		}
		obj = check_response(&f, status, extra);
		const char *desc = check_error(obj, status);
		size_t want = text_len < DESC_MAX ? text_len : DESC_MAX;

		ENSURE(strlen(desc) == want && memcmp(desc, text, want) == 0);
		/* Text that is valid UTF-8 stays valid when it fits whole. */
		if (text_len <= DESC_MAX && utf8_valid(text, text_len))
			ENSURE(utf8_valid(f.out, f.out_len));
		json_object_put(obj);
	}

	/*
	 * resp_json: any value json-c takes goes out as well-formed JSON; one
	 * body_parse accepted reads back exactly the same (json-c's lenient
	 * parser keeps number spellings it cannot write back, so not those).
	 */
	value = body_parse(text, text_len, err, sizeof err);
	strict = value != NULL;
	if (value == NULL)
		value = json_tokener_parse(text);
	if (value != NULL) {
		const char *sent, *again;

		fake_reset(&f, write_fail);
		memset(&r, 0, sizeof r);
		r.io = &io;
		r.method = "GET";
		r.path = "/fuzz";
		resp_json(&r, status, NULL, value);
		ENSURE(r.status == status);
		if (!write_fail) {
			obj = check_response(&f, status, "");
			sent = json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
			again = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
			ENSURE(!strict || strcmp(sent, again) == 0);
			json_object_put(obj);
		}
		/* Not consumed: ours is the last reference. */
		ENSURE(json_object_put(value) == 1);
	}
	fake_reset(&f, 0);
	free(text);
}

/*
 * 1 when CONTENT_LENGTH is a number above MAX_BODY_BYTES: only digits, and
 * within long long (beyond it the header is malformed, a 400).
 */
static int too_large(const char *s)
{
	static const char llmax[] = "9223372036854775807";
	size_t len;

	if (s == NULL || *s == '\0' || strspn(s, "0123456789") != strlen(s))
		return 0;
	while (s[0] == '0' && s[1] != '\0')
		s++;
	len = strlen(s);
	if (len > sizeof llmax - 1 || (len == sizeof llmax - 1 && strcmp(s, llmax) > 0))
		return 0;
	return strtoll(s, NULL, 10) > MAX_BODY_BYTES;
}

/* Splits off the next NUL-terminated field; NULL when the input ended first. */
static const char *field(const char **p, const char *end)
{
	const char *s = *p;
	const char *nul;

	if (s >= end)
		return NULL;
	nul = memchr(s, '\0', (size_t)(end - s));
	if (nul == NULL)
		return NULL;
	*p = nul + 1;
	return s;
}

/* app_handle on a request that never reaches a handler; checks the one answer. */
static void dispatcher(const uint8_t *data, size_t size)
{
	static const int chunks[] = { 0, 1, 7, 4096 };
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	const char *method, *path, *length, *user, *eff_method, *eff_path;
	char auto_length[32], id[REGISTRY_ID_LEN + 2], allow[64], want_allow[96];
	unsigned op = data[0];
	struct fake f = { .params = { NULL } };
	struct req_io io;
	const struct route *route;
	size_t n = 0, id_len = 0, body_len;
	char *body;
	enum route_match m;
	int prefix = 0;

	method = field(&p, end);
	path = method ? field(&p, end) : NULL;
	length = path ? field(&p, end) : NULL;
	user = length ? field(&p, end) : NULL;
	if (user == NULL)
		p = end;        /* no body unless all four fields are there */
	if (op & 2)
		method = NULL;
	if (op & 4)
		path = NULL;
	if (op & 8)
		length = NULL;

	/* Route exactly as app_handle will, to keep away from the handlers. */
	eff_method = method ? method : "";
	eff_path = path && path[0] != '\0' ? path : "/";
	m = route_find(eff_method, eff_path, &route, id, sizeof id, &id_len, allow, sizeof allow);
	if (m == ROUTE_FOUND && (!(route->flags & ROUTE_ID) || route_id_valid(id, id_len))) {
		if (!(route->flags & ROUTE_BODY))
			return;
		prefix = 1;
	}
	body_len = (size_t)(end - p) + (size_t)prefix;
	body = malloc(body_len + 1);
	ENSURE(body != NULL);
	body[0] = '}';
	memcpy(body + prefix, p, (size_t)(end - p));
	if (op & 1) {
		snprintf(auto_length, sizeof auto_length, "%zu", body_len);
		length = auto_length;
	}

	if (method != NULL) {
		f.params[n++] = "REQUEST_METHOD";
		f.params[n++] = method;
	}
	if (path != NULL) {
		f.params[n++] = "PATH_INFO";
		f.params[n++] = path;
	}
	if (length != NULL) {
		f.params[n++] = "CONTENT_LENGTH";
		f.params[n++] = length;
	}
	if (user != NULL) {
		f.params[n++] = "REMOTE_USER";
		f.params[n++] = user;
	}
	f.params[n] = NULL;
	f.body = body;
	f.body_len = body_len;
	f.chunk = chunks[(op >> 4) & 3];
	f.read_fail = (op & 0x40) != 0;
	fake_io(&f, &io);

	app_handle(&io, &no_db);
	ENSURE(f.ends == 1);

	struct json_object *obj;
	if (m == ROUTE_NO_PATH) {
		obj = check_response(&f, 404, "");
		check_error(obj, 404);
	} else if (m == ROUTE_NO_METHOD) {
		snprintf(want_allow, sizeof want_allow, "Allow: %s\r\n", allow);
		obj = check_response(&f, 405, want_allow);
		check_error(obj, 405);
	} else if (!prefix) {
		obj = check_response(&f, 400, "");
		check_error(obj, 400);
	} else {
		/* The body route refused the body before its handler: 413 or 400. */
		int status = too_large(length) ? 413 : 400;

		obj = check_response(&f, status, "");
		check_error(obj, status);
	}
	/* Only a body route reads the body. */
	if (!prefix)
		ENSURE(f.pos == 0);
	json_object_put(obj);
	free(f.out);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 0x80)
		writer(data, size);
	else
		dispatcher(data, size);
	return 0;
}
