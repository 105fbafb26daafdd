/* ref_mem.c - benchmark reference: a minimal libfcgi prefork responder that answers GETs from memory. */
#define _POSIX_C_SOURCE 200809L
#include "prefork.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The captured responses, read once before fork and shared by every worker. */
struct blob {
	char *data;
	int len;
};

static struct blob list_json, one_json, page_json;
static const char not_allowed[] = "{\"type\":\"error\",\"code\":405,\"message\":\"Method Not Allowed\"}";

/*
 * GET .../registry is the list; a path with one more segment is the one
 * registry; the list with a query string is the captured page, when one was
 * given (the bench asks for one page only: which parameters is not looked at).
 */
static void serve(FCGX_Request *r, void *ctx)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", r->envp);
	const char *path = FCGX_GetParam("PATH_INFO", r->envp);
	const char *query = FCGX_GetParam("QUERY_STRING", r->envp);
	const struct blob *b = &list_json;

	(void)ctx;
	if (method == NULL || strcmp(method, "GET") != 0) {
		prefork_reply(r, 405, not_allowed, (int)strlen(not_allowed));
		return;
	}
	if (path != NULL && strstr(path, "/registry/") != NULL)
		b = &one_json;
	else if (query != NULL && query[0] != '\0' && page_json.data != NULL)
		b = &page_json;
	prefork_reply(r, 200, b->data, b->len);
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: ref_mem SOCKET WORKERS LIST_JSON ONE_JSON [PAGE_JSON]\n");
		return 2;
	}
	if (prefork_slurp(argv[3], &list_json.data, &list_json.len) < 0 ||
	    prefork_slurp(argv[4], &one_json.data, &one_json.len) < 0 ||
	    (argc == 6 && prefork_slurp(argv[5], &page_json.data, &page_json.len) < 0))
		return 1;
	return prefork_run(argv[1], (int)strtol(argv[2], NULL, 10), NULL, serve);
}
