/*
 * list_query.h - the query parameters of GET /openapi/system/registry:
 * filters (provider, is_default, q) and paging (page, page_size), parsed and
 * checked into a struct before the handler looks at a registry.
 *
 * All of them are optional, so a Zadig client that sends none gets today's
 * answer.  Parameters this module does not know are ignored (Zadig's own
 * clients send some), a known one given twice, empty, badly percent-encoded,
 * not UTF-8 or out of its range is an error that names it.
 */
#ifndef IMAGEREG_LIST_QUERY_H
#define IMAGEREG_LIST_QUERY_H

#include <stddef.h>

#define LIST_Q_MAX 200                  /* bytes of q after decoding */
#define LIST_PAGE_MAX 1000000000L       /* highest page number */
#define LIST_PAGE_SIZE_MAX 100
#define LIST_PAGE_SIZE_DEFAULT 20       /* page without page_size */
#define LIST_REPOSITORY_MAX 255         /* Distribution's limit on a repository name */

/* The parameters, in the order of the table in list_query.c: bit (1u << LQ_x) of seen. */
enum list_param { LQ_PROVIDER, LQ_IS_DEFAULT, LQ_Q, LQ_PAGE, LQ_PAGE_SIZE, LQ_REPOSITORY, LQ__MAX };

struct list_query {
	char provider[16];              /* "" = any provider */
	int is_default;                 /* -1 = either, 0 = false, 1 = true */
	char q[LIST_Q_MAX + 1];         /* "" = no text filter; never holds a NUL of its own */
	size_t q_len;
	long page;                      /* 0 = not paged: every match */
	long page_size;                 /* 0 when not paged */
	char repository[LIST_REPOSITORY_MAX + 1]; /* browsing tags: "ns/app"; "" = not given */
	unsigned seen;                  /* one bit per parameter given (enum list_param) */
};

/*
 * Parses a QUERY_STRING (NULL or "" = no parameters) into *out.  Returns 0,
 * or -1 with a client-facing description naming the parameter in err.
 */
int list_query_parse(const char *query, struct list_query *out, char *err, size_t errsize);

/* 1 when the query filters or pages at all (the unfiltered list can be sent as it is). */
int list_query_active(const struct list_query *q);

/*
 * 1 when a registry with these fields passes the filters: provider equal,
 * is_default equal, q a case-insensitive (ASCII) substring of address or
 * namespace.
 */
int list_query_match(const struct list_query *q, const char *address, const char *provider,
		     const char *namespace, int is_default);

#endif
