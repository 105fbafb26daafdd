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

static struct blob list_json, one_json;
static const char not_allowed[] = "{\"type\":\"error\",\"code\":405,\"message\":\"Method Not Allowed\"}";

/* GET .../registry is the list; a path with one more segment is the one registry. */
static void serve(FCGX_Request *r, void *ctx)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", r->envp);
	const char *path = FCGX_GetParam("PATH_INFO", r->envp);
	const struct blob *b = &list_json;

	(void)ctx;
	if (method == NULL || strcmp(method, "GET") != 0) {
		prefork_reply(r, 405, not_allowed, (int)strlen(not_allowed));
		return;
	}
	if (path != NULL && strstr(path, "/registry/") != NULL)
		b = &one_json;
	prefork_reply(r, 200, b->data, b->len);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: ref_mem SOCKET WORKERS LIST_JSON ONE_JSON\n");
		return 2;
	}
	if (prefork_slurp(argv[3], &list_json.data, &list_json.len) < 0 ||
	    prefork_slurp(argv[4], &one_json.data, &one_json.len) < 0)
		return 1;
	return prefork_run(argv[1], (int)strtol(argv[2], NULL, 10), NULL, serve);
}
