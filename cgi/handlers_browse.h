/* handlers_browse.h - browsing what a stored registry holds: its repositories and their tags. */
#ifndef IMAGEREG_HANDLERS_BROWSE_H
#define IMAGEREG_HANDLERS_BROWSE_H

#include "req.h"

/* GET /openapi/system/registry/:id/repositories: the repositories under its namespace. */
void h_registry_repositories(struct req *r);

/* GET /openapi/system/registry/:id/repositories/tags?repository=NAME: one repository's tags. */
void h_registry_tags(struct req *r);

#endif
