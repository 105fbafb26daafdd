/* handlers.h - one function per route; each sends exactly one response. */
#ifndef IMAGEREG_HANDLERS_H
#define IMAGEREG_HANDLERS_H

#include "req.h"

void h_registry_list(struct req *r);
void h_registry_create(struct req *r);
void h_registry_get(struct req *r);
void h_registry_update(struct req *r);
void h_registry_delete(struct req *r);
void h_health(struct req *r);

#endif
