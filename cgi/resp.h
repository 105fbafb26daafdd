/* resp.h - the only code that writes response headers and bodies. */
#ifndef IMAGEREG_RESP_H
#define IMAGEREG_RESP_H

#include "req.h"

/* The standard reason phrase of an HTTP status ("Bad Request"). */
const char *resp_reason(int status);

/*
 * Sends status and the JSON value obj (not consumed; the caller still owns
 * it).  extra_headers is NULL or complete "Name: value\r\n" lines; r->cors
 * is added too.  Only the first response of a request goes out; later calls
 * are logged and dropped.
 */
void resp_json(struct req *r, int status, const char *extra_headers,
	       struct json_object *obj);

/* resp_json for JSON that is already text: json[0..len), borrowed. */
void resp_json_text(struct req *r, int status, const char *extra_headers,
		    const char *json, size_t len);

/* Sends a status with headers and no body (204 to a CORS preflight). */
void resp_empty(struct req *r, int status, const char *extra_headers);

/* Sends {"message":"success"}. */
void resp_success(struct req *r);

/*
 * Sends Zadig's error shape {"type":"error","code":..,"message":..,
 * "description":..,"extra":{}} with the description formatted from fmt.
 * The description goes to the client: never put a credential in it.
 */
void resp_error(struct req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* resp_error with extra header lines (Allow, WWW-Authenticate). */
void resp_error_h(struct req *r, int status, const char *extra_headers,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
