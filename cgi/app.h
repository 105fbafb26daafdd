/* app.h - one request in, one response out, whatever the transport. */
#ifndef IMAGEREG_APP_H
#define IMAGEREG_APP_H

#include "req.h"

/*
 * Serves one request read through io: routes it, checks the route's
 * preconditions in order (id shape, bearer token and scope, body size and
 * JSON), runs the handler and logs one access line.  Never exits; always
 * answers.
 */
void app_handle(const struct req_io *io, const struct app *app);

#endif
