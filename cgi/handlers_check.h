/* handlers_check.h - the registry check endpoints (cgi/regcheck.c does the checking). */
#ifndef IMAGEREG_HANDLERS_CHECK_H
#define IMAGEREG_HANDLERS_CHECK_H

#include "regcheck.h"
#include "req.h"

#include <libpq-fe.h>

/* POST /openapi/system/registry/validate: the settings of a body, not saved. */
void h_registry_check(struct req *r);

/* POST /openapi/system/registry/:id/validate: a stored registry, as stored. */
void h_registry_check_stored(struct req *r);

/*
 * Takes one of the host's check_concurrency slots for an outbound registry
 * operation: 0 with *slot to pass to outbound_release when done, or -1 after
 * answering 429 (every slot taken; Retry-After) or 503 (no slot file).
 */
int outbound_take(struct req *r, int *slot);

/* The check's options from the settings: check_timeout and the allow-list parsed at load. */
struct regcheck_options check_options(const struct req *r);

/*
 * The stored registry r->id as STMT_REGISTRY_CHECK_TARGET reads it (caller
 * PQclears), or NULL after answering 404, 503 or 500.
 */
PGresult *check_target_load(struct req *r);

/*
 * Opens one sealed column (STMT_REGISTRY_CHECK_TARGET's CHK_*_SEALED) of row 0:
 * *out is the plaintext (caller frees with secret_free) or NULL when the column
 * is NULL.  Returns -1 when a value is there but the key cannot open it.
 */
int unseal_stored(struct req *r, const PGresult *res, int col, const char *aad, char **out);

#endif
