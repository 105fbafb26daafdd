/* ref_bare.c - benchmark reference: libfcgi accepting and writing one prebuilt response, nothing else per request. */
#define _POSIX_C_SOURCE 200809L
#include "prefork.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * The whole CGI response (headers and body), built once before fork.  nginx
 * picks the instance (one for the list, one for a row), so a request costs
 * libfcgi's accept, read and write and nothing of ours: the ceiling any
 * libfcgi responder can reach through this nginx.
 */
static char *response;
static int response_len;

static void serve(FCGX_Request *r, void *ctx)
{
	(void)ctx;
	FCGX_PutStr(response, response_len, r->out);
}

int main(int argc, char **argv)
{
	char *body;
	int len;

	if (argc != 4) {
		fprintf(stderr, "usage: ref_bare SOCKET WORKERS BODY_JSON\n");
		return 2;
	}
	if (prefork_slurp(argv[3], &body, &len) < 0 || prefork_response(200, body, len, &response, &response_len) < 0)
		return 1;
	free(body);
	return prefork_run(argv[1], (int)strtol(argv[2], NULL, 10), NULL, serve);
}
