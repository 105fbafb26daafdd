/* routes.h - the route table: which handler answers which method and path. */
#ifndef IMAGEREG_ROUTES_H
#define IMAGEREG_ROUTES_H

#include "req.h"

/* Preconditions the dispatcher checks before a handler runs. */
enum route_flag {
	ROUTE_BODY = 1 << 0,   /* reads and parses a JSON object body */
	ROUTE_ID = 1 << 1,     /* the path ends in a registry id, checked first */
	ROUTE_WRITE = 1 << 2,  /* changes data */
	ROUTE_PUBLIC = 1 << 3, /* answered without a token (health) */
};

struct route {
	const char *method;
	const char *pattern;   /* literal segments and ":id" */
	void (*handler)(struct req *r);
	unsigned flags;
	const char *summary;   /* one line, for docs and logs */
};

enum route_match {
	ROUTE_FOUND,           /* *route set; id copied when the pattern has :id */
	ROUTE_NO_PATH,         /* no pattern matches the path: 404 */
	ROUTE_NO_METHOD,       /* the path exists, the method not: 405, allow set */
};

/*
 * Looks up method and path.  On ROUTE_FOUND, *route points into the static
 * table and id receives the raw :id segment (up to idsize-1 bytes, longer ones
 * truncated and reported by id_len).  On ROUTE_NO_METHOD, allow receives the
 * comma-separated methods of that path.
 */
enum route_match route_find(const char *method, const char *path,
			    const struct route **route, char *id, size_t idsize,
			    size_t *id_len, char *allow, size_t allowsize);

/* The table itself, for documentation tests; n receives its length. */
const struct route *route_table(size_t *n);

/* 1 when s is exactly 24 lowercase hex characters. */
int route_id_valid(const char *s, size_t len);

#endif
