/* handlers.h - one function per route; each sends exactly one response. */
#ifndef IMAGEREG_HANDLERS_H
#define IMAGEREG_HANDLERS_H

#include "req.h"

#include <libpq-fe.h>

void h_registry_list(struct req *r);
void h_registry_create(struct req *r);
void h_registry_get(struct req *r);
void h_registry_update(struct req *r);
void h_registry_delete(struct req *r);
void h_health(struct req *r);

/*
 * For the handler files: 1 when res is a successful result of the expected
 * kind; else answers (503 when res is NULL, a named 400 for a constraint, 500
 * logged with its SQLSTATE) and returns 0.
 */
int result_ok(struct req *r, const PGresult *res, ExecStatusType want);

#endif
