/* app.h - one request in, one response out, whatever the transport. */
#ifndef IMAGEREG_APP_H
#define IMAGEREG_APP_H

#include "log.h"
#include "req.h"

/*
 * Serves one request read through io: routes it, checks the route's
 * preconditions in order (id shape, bearer token and scope, body size and
 * JSON), runs the handler and fills *access, the request's access line, for
 * the caller to write with log_access once the response is out.  Never
 * exits; always answers.
 */
void app_handle(const struct req_io *io, const struct app *app, struct access_entry *access);

#endif
