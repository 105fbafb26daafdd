/* resp.c - the one response writer: headers, JSON bodies and Zadig errors. */
#include "resp.h"
#include "log.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int status;
	const char *reason;
} reasons[] = {
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
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};

const char *resp_reason(int status)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Internal Server Error";
}

/* Writes the head and body; the one place bytes go out. */
static void send(struct req *r, int status, const char *extra_headers, const char *body, size_t body_len)
{
	char head[1024];
	int n;

	if (r->status != 0) {
		log_error("bug: second response (%d) after %d for %s %s", status,
			  r->status, r->method, r->path);
		return;
	}
	/* Headers common to every answer: JSON, never cached, never sniffed. */
	n = snprintf(head, sizeof head,
		     "Status: %d %s\r\n"
		     "Content-Type: application/json; charset=utf-8\r\n"
		     "Content-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "%s%s\r\n",
		     status, resp_reason(status), body_len, r->cors,
		     extra_headers ? extra_headers : "");
	r->status = status;
	if (n < 0 || (size_t)n >= sizeof head) {
		log_error("bug: response head too long for %s %s", r->method, r->path);
		return;
	}
	/* A failed write means the client went away; nothing more to do. */
	if (r->io->write(r->io->ctx, head, n) < 0 ||
	    (body_len > 0 && r->io->write(r->io->ctx, body, (int)body_len) < 0))
		log_debug("client went away during the response");
}

void resp_json_text(struct req *r, int status, const char *extra_headers,
		    const char *json, size_t len)
{
	send(r, status, extra_headers, json, len);
}

void resp_json(struct req *r, int status, const char *extra_headers,
	       struct json_object *obj)
{
	size_t body_len;
	const char *body = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &body_len);

	send(r, status, extra_headers, body, body_len);
}

void resp_empty(struct req *r, int status, const char *extra_headers)
{
	send(r, status, extra_headers, "", 0);
}

void resp_success(struct req *r)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "message", json_object_new_string("success"));
	resp_json(r, 200, NULL, obj);
	json_object_put(obj);
}

static void send_error(struct req *r, int status, const char *extra_headers,
		       const char *fmt, va_list ap)
{
	char description[512];
	struct json_object *obj = json_object_new_object();

	vsnprintf(description, sizeof description, fmt, ap);
	json_object_object_add(obj, "type", json_object_new_string("error"));
	json_object_object_add(obj, "code", json_object_new_int(status));
	json_object_object_add(obj, "message", json_object_new_string(resp_reason(status)));
	json_object_object_add(obj, "description", json_object_new_string(description));
	json_object_object_add(obj, "extra", json_object_new_object());
	resp_json(r, status, extra_headers, obj);
	json_object_put(obj);
}

void resp_error(struct req *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_error(r, status, NULL, fmt, ap);
	va_end(ap);
}

void resp_error_h(struct req *r, int status, const char *extra_headers,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_error(r, status, extra_headers, fmt, ap);
	va_end(ap);
}
