/* auth.h - bearer tokens: who is calling, and may they write. */
#ifndef IMAGEREG_AUTH_H
#define IMAGEREG_AUTH_H

#include "req.h"

/*
 * Checks the request's "Authorization: Bearer <token>" against api_token
 * (by SHA-256, through imagereg_token_check) and sets r->actor to the token's
 * name.  Returns 0 when the call may go on; otherwise it has answered 401
 * (missing, unknown or revoked token, with WWW-Authenticate: Bearer), 403
 * (a read token on a write) or 503, and returns -1.
 */
int auth_check(struct req *r, int wants_write);

#endif
